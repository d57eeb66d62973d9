/** @module The settings of the Python concern: where each machine's torch family comes from. */
import type { SettingSpec } from '../workspace'
import { DEFAULT_TORCH_INDEX_BASE } from './local-settings'

export const TORCH_INDEX_SETTING: SettingSpec = {
  key: 'torch_index_url',
  default: DEFAULT_TORCH_INDEX_BASE,
  description: 'PyTorch wheel indexes, one per torch backend below it (<url>/cpu, <url>/cu128, ...)',
}

export const PYTHON_SETTINGS: readonly SettingSpec[] = [TORCH_INDEX_SETTING]
