/**
 * @module Core loaders added to ComfyUI after v0.3.7 (the version of the capture the generated table comes
 * from). Hand-kept and small: each row was checked against the corpus templates (`properties.models`
 * declare the folder, `cnr_id: comfy-core` marks them core) and ComfyUI's current node source
 * (`io.Combo.Input(name, options=folder_paths.get_filename_list(folder))`, input order = widget order).
 */
import type { LoaderInput } from '../loader-types'

export const NEWER_LOADERS: readonly LoaderInput[] = [
  // comfy_extras/nodes_hidream.py — templates/hidream_i1_dev.json
  { type: 'QuadrupleCLIPLoader', input: 'clip_name1', index: 0, folder: 'text_encoders' },
  { type: 'QuadrupleCLIPLoader', input: 'clip_name2', index: 1, folder: 'text_encoders' },
  { type: 'QuadrupleCLIPLoader', input: 'clip_name3', index: 2, folder: 'text_encoders' },
  { type: 'QuadrupleCLIPLoader', input: 'clip_name4', index: 3, folder: 'text_encoders' },
  // comfy_extras/nodes_audio_encoder.py — templates/video_humo.json
  { type: 'AudioEncoderLoader', input: 'audio_encoder_name', index: 0, folder: 'audio_encoders' },
  // comfy_extras/nodes_model_patch.py (Qwen-Image / Z-Image patches)
  { type: 'ModelPatchLoader', input: 'name', index: 0, folder: 'model_patches' },
  // comfy_extras/nodes_hunyuan.py (HunyuanVideo 1.5 latent upscaler)
  { type: 'LatentUpscaleModelLoader', input: 'model_name', index: 0, folder: 'latent_upscale_models' },
]
