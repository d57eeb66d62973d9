/**
 * The shared world of the import/repair tests, all real: a ComfyUI-shaped git repository with wheels
 * for its requirements, a loopback Comfy Registry serving a pack zip, a git pack reachable by
 * file:// URL, a loopback file server serving model files, and a source workspace with an
 * environment made by `createEnvironment` holding a registry pack, a git pack, a development node,
 * corpus workflows and models referenced by hash with download sources, committed.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createEnvironment } from '../../../sidecar/env'
import { openGit } from '../../../sidecar/git'
import { readManifest, writeManifest, type Pyproject } from '../../../sidecar/manifest'
import { shortHash } from '../../../sidecar/models'
import { addNodes } from '../../../sidecar/nodes'
import { Workspace, type EnvPaths } from '../../../sidecar/workspace'
import { makeComfyuiRepo, type ComfyuiRepo } from '../../support/comfyui-repo'
import { startFileServer, type FileServer } from '../../support/file-server'
import { makeGitRepo, type GitRepo } from '../../support/git-repos'
import { startRegistryServer, type RegistryServer } from '../../support/registry-server'
import { CORPUS } from './env-on-disk'

export interface ModelFile {
  filename: string
  relPath: string
  data: Buffer
  hash: string
  url: string
}

export interface World {
  root: string
  comfyui: ComfyuiRepo
  registry: RegistryServer
  gitPack: GitRepo
  files: FileServer
  models: Record<'checkpoint' | 'lora' | 'controlnet', ModelFile>
  src: { ws: Workspace, env: EnvPaths }
  /** A new workspace configured against the same servers. */
  newWorkspace (name: string): Promise<Workspace>
  close (): Promise<void>
}

export const WORKFLOWS = ['default.json', 'canny_workflow.json']

const bytes = (n: number, seed: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * seed + 7) & 0xff))

async function modelFile (root: string, files: FileServer, filename: string, folder: string, seed: number): Promise<ModelFile> {
  const data = bytes(200_000 + seed * 1000, seed)
  const tmp = join(root, 'model-src', filename)
  mkdirSync(join(root, 'model-src'), { recursive: true })
  writeFileSync(tmp, data)
  files.file(`/files/${filename}`, data)
  return { filename, relPath: `${folder}/${filename}`, data, hash: await shortHash(tmp), url: `${files.url}/files/${filename}` }
}

/** Workflow model references and the global model table for the source manifest. */
export function addModelsToManifest (doc: Pyproject, models: World['models']): void {
  const c = doc.tool.comfydock
  const entry = (m: ModelFile, category: string, criticality: 'required' | 'flexible' | 'optional') =>
    ({ filename: m.filename, category, criticality, status: 'resolved' as const, nodes: [{ node_id: '4', node_type: 'Loader', widget_idx: 0, widget_value: m.filename }], hash: m.hash })
  c.workflows = {
    default: { path: 'workflows/default.json', nodes: [], models: [entry(models.checkpoint, 'checkpoints', 'flexible'), entry(models.lora, 'loras', 'optional')] },
    canny_workflow: { path: 'workflows/canny_workflow.json', nodes: [], models: [entry(models.checkpoint, 'checkpoints', 'required'), entry(models.controlnet, 'controlnet', 'required')] },
  }
  c.models = Object.fromEntries(Object.values(models).map(m => [m.hash, { filename: m.filename, size: m.data.length, relative_path: m.relPath, category: m.relPath.split('/')[0], sources: [m.url] }]))
}

export async function makeWorld (root: string): Promise<World> {
  const comfyui = await makeComfyuiRepo(join(root, 'comfyui-src'))
  Object.assign(process.env, comfyui.indexEnv)
  const registry = await startRegistryServer([
    { id: 'comfyui-impact-pack', repository: 'https://github.com/ltdrdata/ComfyUI-Impact-Pack', versions: [{ version: '8.1.0', files: { '__init__.py': 'V = "8.1.0"\n' } }] },
  ])
  const gitPack = makeGitRepo(join(root, 'repos', 'my-git-pack'), [{ files: { '__init__.py': 'V = 1\n' }, tag: 'v1.0' }])
  const files = await startFileServer()
  const models = {
    checkpoint: await modelFile(root, files, 'sd_xl_base_1.0.safetensors', 'checkpoints', 3),
    lora: await modelFile(root, files, 'detail_lora.safetensors', 'loras', 5),
    controlnet: await modelFile(root, files, 'control_canny.safetensors', 'controlnet', 9),
  }
  const newWorkspace = async (name: string): Promise<Workspace> => {
    const { workspace } = await Workspace.init(join(root, name))
    await workspace.setConfig('comfyui_source', comfyui.url)
    await workspace.setConfig('registry_url', registry.url)
    // the git pack is a local repository: bundles may name it only because this user trusts the folder
    await workspace.setConfig('trusted_local_sources', join(root, 'repos'))
    return workspace
  }

  const ws = await newWorkspace('ws-src')
  await createEnvironment(ws, 'portraits', { comfyui: 'v0.3.7' })
  const env = ws.env('portraits')
  mkdirSync(join(env.customNodes, 'my-dev-node', 'web'), { recursive: true })
  writeFileSync(join(env.customNodes, 'my-dev-node', '__init__.py'), 'NODE_CLASS_MAPPINGS = {}\n')
  writeFileSync(join(env.customNodes, 'my-dev-node', 'web', 'ui.js'), 'export {}\n')
  writeFileSync(join(env.customNodes, 'my-dev-node', '.gitignore'), 'cache/\n')
  mkdirSync(join(env.customNodes, 'my-dev-node', 'cache'))
  writeFileSync(join(env.customNodes, 'my-dev-node', 'cache', 'big.bin'), 'never shipped')
  const added = await addNodes(ws, env, ['comfyui-impact-pack@8.1.0', `${gitPack.fileUrl}@v1.0`], { syncPython: false })
  const dev = await addNodes(ws, env, ['my-dev-node'], { dev: true, syncPython: false })
  if (!added.ok || !dev.ok) throw new Error(`setting up packs failed: ${JSON.stringify([...added.results, ...dev.results])}`)
  mkdirSync(env.userWorkflows, { recursive: true })
  for (const wf of WORKFLOWS) {
    copyFileSync(join(CORPUS, 'workflows', wf), join(env.cecWorkflows, wf))
    copyFileSync(join(CORPUS, 'workflows', wf), join(env.userWorkflows, wf))
  }
  const doc = await readManifest(env.pyproject)
  addModelsToManifest(doc, models)
  await writeManifest(env.pyproject, doc)
  await openGit(env.cec).commit('Add packs, workflows and models')

  return {
    root, comfyui, registry, gitPack, files, models, src: { ws, env }, newWorkspace,
    async close () { await registry.stop(); await files.close() },
  }
}
