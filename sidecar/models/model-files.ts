/**
 * @module Which files count as models, following the original scanner (research §4.3): hidden paths,
 * symlinks, tiny files and known non-model extensions are skipped; standard model folders accept only
 * model extensions, other folders are permissive. `.gguf` is added: quantised UNets live there now.
 */
import type { Criticality } from '../manifest'

export const MODEL_FOLDERS = [
  'checkpoints', 'configs', 'loras', 'vae', 'text_encoders', 'clip', 'diffusion_models', 'unet', 'clip_vision',
  'style_models', 'embeddings', 'diffusers', 'vae_approx', 'controlnet', 't2i_adapter', 'gligen', 'upscale_models',
  'hypernetworks', 'photomaker', 'classifiers', 'model_patches', 'audio_encoders',
] as const

/**
 * Folders popular packs register beside the core ones (ComfyUI_IPAdapter_plus, Impact Pack and
 * Impact Subpack, ReActor, InstantID, PuLID, AnimateDiff-Evolved, LLM/vision packs, ...), keyed by the
 * folder name the pack asks ComfyUI for, with the path under models/ it reads. They are known
 * categories: the generated extra_model_paths.yaml names them, and models in them keep their folder as
 * category. Their files are not filtered by extension (insightface ships .onnx, some packs .pkl).
 */
export const PACK_MODEL_FOLDERS: Record<string, string> = {
  ipadapter: 'ipadapter',
  insightface: 'insightface',
  ultralytics: 'ultralytics',
  ultralytics_bbox: 'ultralytics/bbox',
  ultralytics_segm: 'ultralytics/segm',
  sams: 'sams',
  animatediff_models: 'animatediff_models',
  animatediff_motion_lora: 'animatediff_motion_lora',
  facerestore_models: 'facerestore_models',
  facedetection: 'facedetection',
  instantid: 'instantid',
  pulid: 'pulid',
  reactor: 'reactor',
  LLM: 'LLM',
  'grounding-dino': 'grounding-dino',
  mmdets: 'mmdets',
  onnx: 'onnx',
  depthanything: 'depthanything',
  liveportrait: 'liveportrait',
  BiRefNet: 'BiRefNet',
}

/** Every folder comfydock knows as a model category: ComfyUI's own and the ones packs register. */
export const KNOWN_MODEL_FOLDERS: readonly string[] = [...MODEL_FOLDERS, ...new Set(Object.values(PACK_MODEL_FOLDERS).map(p => p.split('/')[0]))]

/**
 * The category of a file by where it sits under a models folder: its first folder (a pack's own folder
 * counts like a core one); null for files at the top of the models folder.
 */
export function modelCategory (relPath: string): string | null {
  const parts = relPath.replace(/\\/g, '/').split('/').filter(Boolean)
  return parts.length > 1 ? parts[0] : null
}

const STANDARD = new Set<string>(MODEL_FOLDERS)
const MODEL_EXTENSIONS = new Set(['.ckpt', '.pt', '.pth', '.pt2', '.bin', '.safetensors', '.pkl', '.sft', '.gguf'])
const CONFIG_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])
const SKIPPED_EXTENSIONS = new Set([
  '.txt', '.md', '.lock', '.gitignore', '.gitattributes', '.log', '.html', '.xml', '.py', '.js', '.ts', '.sh', '.bat', '.ps1',
  '.png', '.jpg', '.jpeg', '.gif', '.webp', '.bmp', '.svg', '.ico', '.mp4', '.avi', '.mov', '.mkv', '.webm',
  '.mp3', '.wav', '.flac', '.ogg', '.zip', '.tar', '.gz', '.rar', '.7z', '.doc', '.docx', '.pdf', '.xls', '.xlsx', '.ppt', '.pptx',
  '.part', '.tmp',
])
const SKIPPED_NAMES = new Set(['.DS_Store', '.env', 'Thumbs.db'])
export const MIN_MODEL_SIZE = 8

function extensionOf (name: string): string {
  const i = name.lastIndexOf('.')
  return i > 0 ? name.slice(i).toLowerCase() : ''
}

/** True when a file at `relPath` (forward slashes) of `size` bytes is indexed. */
export function isModelFile (relPath: string, size: number): boolean {
  if (size < MIN_MODEL_SIZE) return false
  const parts = relPath.split('/')
  if (parts.some(p => p.startsWith('.'))) return false
  const name = parts[parts.length - 1]
  if (SKIPPED_NAMES.has(name)) return false
  const ext = extensionOf(name)
  if (SKIPPED_EXTENSIONS.has(ext)) return false
  const folder = parts.length > 1 ? parts[0] : ''
  if (STANDARD.has(folder)) return MODEL_EXTENSIONS.has(ext) || (folder === 'configs' && CONFIG_EXTENSIONS.has(ext))
  return true
}

const FLEXIBLE = new Set(['checkpoints', 'vae', 'text_encoders', 'loras', 'style_models', 'embeddings', 'upscale_models'])

/** The original tool's per-folder default: "a substitute works" for common model kinds, else required. */
export function defaultCriticality (folder: string): Criticality {
  return FLEXIBLE.has(folder) ? 'flexible' : 'required'
}
