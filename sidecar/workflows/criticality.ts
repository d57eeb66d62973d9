/**
 * @module How much a workflow needs a model: the per-folder default of the models concern (a substitute works
 * for checkpoints, VAEs, text encoders, LoRAs, ... = "flexible"; else "required"); a model only a bypassed or
 * muted node uses is "optional"; an unknown folder is "required".
 */
import type { Criticality } from '../manifest'
import { defaultCriticality } from '../models/model-files'

const RANK: Record<Criticality, number> = { optional: 0, flexible: 1, required: 2 }
// Legacy disk folder names ComfyUI merges into the new ones.
const ALIASES: Record<string, string> = { clip: 'text_encoders', unet: 'diffusion_models', t2i_adapter: 'controlnet' }

export function folderCriticality (folder: string | null | undefined): Criticality {
  return folder ? defaultCriticality(ALIASES[folder] ?? folder) : 'required'
}

/** When several nodes or workflows use one model, the strongest need wins. */
export function strongest (a: Criticality, b: Criticality): Criticality {
  return RANK[a] >= RANK[b] ? a : b
}
