/**
 * @module How much a workflow needs a model. Defaults per folder follow the original tool: a substitute works
 * for checkpoints, VAEs, text encoders, LoRAs, style models, embeddings and upscalers ("flexible"); everything
 * else is "required". A model only a bypassed or muted node uses is "optional".
 */
import type { Criticality } from '../manifest'

const FLEXIBLE = new Set(['checkpoints', 'vae', 'text_encoders', 'clip', 'loras', 'style_models', 'embeddings', 'upscale_models'])
const RANK: Record<Criticality, number> = { optional: 0, flexible: 1, required: 2 }

export function folderCriticality (folder: string | null | undefined): Criticality {
  return folder && FLEXIBLE.has(folder) ? 'flexible' : 'required'
}

/** When several nodes or workflows use one model, the strongest need wins. */
export function strongest (a: Criticality, b: Criticality): Criticality {
  return RANK[a] >= RANK[b] ? a : b
}
