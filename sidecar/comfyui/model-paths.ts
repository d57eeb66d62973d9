/**
 * @module Connects the workspace models directory to a ComfyUI tree through ComfyUI's own
 * `extra_model_paths.yaml` (no symlinks: they break on Windows and confuse file managers).
 */
import YAML from 'yaml'
import { writeFileAtomic } from '../fs'
import { PACK_MODEL_FOLDERS } from '../models/model-files'

/** ComfyUI model folder -> sub-folders of the models directory (legacy names listed second). */
const FOLDERS: Record<string, string[]> = {
  checkpoints: ['checkpoints'],
  configs: ['configs'],
  loras: ['loras'],
  vae: ['vae'],
  text_encoders: ['text_encoders', 'clip'],
  diffusion_models: ['diffusion_models', 'unet'],
  clip_vision: ['clip_vision'],
  style_models: ['style_models'],
  embeddings: ['embeddings'],
  diffusers: ['diffusers'],
  vae_approx: ['vae_approx'],
  controlnet: ['controlnet', 't2i_adapter'],
  gligen: ['gligen'],
  upscale_models: ['upscale_models'],
  hypernetworks: ['hypernetworks'],
  photomaker: ['photomaker'],
  classifiers: ['classifiers'],
  model_patches: ['model_patches'],
  audio_encoders: ['audio_encoders'],
}

/**
 * Core folders, then the folders packs register (ipadapter, insightface, ultralytics, sams, ...): a
 * pack that registers its folder keeps paths already added from this file, so ComfyUI finds the
 * workspace's files there too.
 */
export function extraModelPathsYaml (modelsDir: string): string {
  const section: Record<string, string> = { base_path: modelsDir }
  for (const [folder, subs] of Object.entries(FOLDERS)) section[folder] = subs.join('\n')
  for (const [folder, sub] of Object.entries(PACK_MODEL_FOLDERS)) section[folder] = sub
  return '# Written by comfydock: points ComfyUI at the workspace models directory.\n' + YAML.stringify({ comfydock: section })
}

export async function writeExtraModelPaths (file: string, modelsDir: string): Promise<void> {
  await writeFileAtomic(file, extraModelPathsYaml(modelsDir))
}
