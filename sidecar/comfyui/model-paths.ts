/**
 * @module Connects the workspace models directory to a ComfyUI tree through ComfyUI's own
 * `extra_model_paths.yaml` (no symlinks: they break on Windows and confuse file managers).
 */
import YAML from 'yaml'
import { writeFileAtomic } from '../fs'

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
}

export function extraModelPathsYaml (modelsDir: string): string {
  const section: Record<string, string> = { base_path: modelsDir }
  for (const [folder, subs] of Object.entries(FOLDERS)) section[folder] = subs.join('\n')
  return '# Written by comfydock: points ComfyUI at the workspace models directory.\n' + YAML.stringify({ comfydock: section })
}

export async function writeExtraModelPaths (file: string, modelsDir: string): Promise<void> {
  await writeFileAtomic(file, extraModelPathsYaml(modelsDir))
}
