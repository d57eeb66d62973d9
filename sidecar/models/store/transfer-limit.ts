/** @module How many model transfers (downloads, uploads, parts) run at once: the `model_transfers` setting. */
import { ComfydockError } from '../../errors'
import type { SettingSpec } from '../../workspace'

export const TRANSFER_SETTING: SettingSpec = {
  key: 'model_transfers', default: '4', description: 'model downloads and uploads at once (one machine\'s link is the limit, not one connection)',
  check: v => {
    if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) throw new ComfydockError('CONFIG_INVALID_VALUE', `model_transfers must be a number from 1 to 64, not "${v}"`, { hint: 'For example `comfydock config model_transfers 4`.' })
  },
}

export function transferLimit (ctx: { setting (key: string): string }): number {
  const n = Number(ctx.setting(TRANSFER_SETTING.key))
  return Number.isInteger(n) && n >= 1 && n <= 64 ? n : 4
}
