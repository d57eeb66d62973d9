/** @module The settings of the models concern: every host's (base URLs, tokens, the store) and the transfer limit. */
import type { SettingSpec } from '../workspace'
import { MODEL_HOST_SETTINGS } from './hosts'
import { TRANSFER_SETTING } from './store/transfer-limit'

export const MODEL_SETTINGS: readonly SettingSpec[] = [...MODEL_HOST_SETTINGS, TRANSFER_SETTING]
