/**
 * Model folders that packs register beside ComfyUI's own (ipadapter, insightface, ultralytics, sams, ...):
 * the environment's extra_model_paths.yaml names them, so ComfyUI, once the pack has registered its folder,
 * finds the workspace's files there; and models in them are recorded with their folder as category.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { extraModelPathsYaml } from '../../sidecar/comfyui/model-paths'
import { readManifest } from '../../sidecar/manifest'
import { prepareWorkflowCommit, trackWorkflows } from '../../sidecar/workflows'
import { makeComfyuiRepo } from '../support/comfyui-repo'
import { makeGitRepo } from '../support/git-repos'
import { makeTempDir } from '../support/temp-dir'
import { makeEnvFixture } from '../workflows/env-fixture'

describe('model folders registered by packs', () => {
  it('are in extra_model_paths.yaml, so a pack that registers its folder sees the workspace models there', async () => {
    const dir = makeTempDir('pack-folders')
    const repo = await makeComfyuiRepo(dir)
    const comfy = join(dir, 'ComfyUI')
    execFileSync('git', ['clone', '-q', repo.url, comfy])
    const models = join(dir, 'workspace-models')
    writeFileSync(join(comfy, 'extra_model_paths.yaml'), extraModelPathsYaml(models))
    // A pack as ComfyUI_IPAdapter_plus and the Impact Pack write theirs: keep known paths, else models/<folder>.
    const pack = makeGitRepo(join(dir, 'pack'), [{
      files: {
        '__init__.py': [
          'import os, folder_paths',
          'for name, sub in (("ipadapter", "ipadapter"), ("ultralytics_bbox", "ultralytics/bbox"), ("sams", "sams"), ("insightface", "insightface")):',
          '    paths = folder_paths.folder_names_and_paths[name][0] if name in folder_paths.folder_names_and_paths else [os.path.join(folder_paths.models_dir, sub)]',
          '    folder_paths.folder_names_and_paths[name] = (paths, {".bin", ".pt", ".pth", ".onnx", ".safetensors"})',
        ].join('\n'),
      },
    }])
    execFileSync('git', ['clone', '-q', pack.path, join(comfy, 'custom_nodes', 'pack')])
    const script = [
      'import json, sys, importlib',
      'sys.path.insert(0, "custom_nodes")',
      'import folder_paths',
      'from utils import extra_config',
      'extra_config.load_extra_path_config("extra_model_paths.yaml")',
      'importlib.import_module("pack")',
      'print(json.dumps({k: folder_paths.get_folder_paths(k) for k in ("ipadapter", "ultralytics_bbox", "sams", "insightface")}))',
    ].join('\n')
    // Debian's python3, which has PyYAML (python3-yaml, installed by .ci/run) as ComfyUI's venv would;
    // `python3` on PATH may be another interpreter without it.
    const paths = JSON.parse(execFileSync('/usr/bin/python3', ['-c', script], { cwd: comfy, encoding: 'utf8' })) as Record<string, string[]>
    expect(paths.ipadapter).toContain(join(models, 'ipadapter'))
    expect(paths.ultralytics_bbox).toContain(join(models, 'ultralytics', 'bbox'))
    expect(paths.sams).toContain(join(models, 'sams'))
    expect(paths.insightface).toContain(join(models, 'insightface'))
  })

  it('record models in them with their real category, never "unknown"', async () => {
    const f = await makeEnvFixture()
    await f.addModels({
      'ipadapter/ip-adapter_sd15.safetensors': 'ipa',
      'ultralytics/bbox/face_yolov8m.pt': 'yolo',
      'sams/sam_vit_b_01ec64.pth': 'sam',
      'insightface/inswapper_128.onnx': 'swap',
    })
    mkdirSync(f.env.customNodes, { recursive: true })
    f.saveWorkflow('face', {
      version: 0.4,
      links: [],
      nodes: [
        { id: 1, type: 'IPAdapterModelLoader', mode: 0, properties: { cnr_id: 'comfyui_ipadapter_plus' }, widgets_values: ['ip-adapter_sd15.safetensors'] },
        { id: 2, type: 'UltralyticsDetectorProvider', mode: 0, properties: { cnr_id: 'comfyui-impact-subpack' }, widgets_values: ['bbox/face_yolov8m.pt'] },
        { id: 3, type: 'SAMLoader', mode: 0, properties: { cnr_id: 'comfyui-impact-pack' }, widgets_values: ['sam_vit_b_01ec64.pth', 'AUTO'] },
        { id: 4, type: 'ReActorFaceSwap', mode: 0, properties: { cnr_id: 'comfyui-reactor' }, widgets_values: [true, 'inswapper_128.onnx', 'retinaface_resnet50'] },
      ],
    })
    await trackWorkflows(f.env, ['face'])
    await prepareWorkflowCommit(f.ws, f.env, { allowIssues: true })
    const doc = await readManifest(f.env.pyproject)
    const models = doc.tool.comfydock.workflows!.face.models!
    expect(Object.fromEntries(models.map(m => [m.filename, m.category]))).toEqual({
      'ip-adapter_sd15.safetensors': 'ipadapter',
      'face_yolov8m.pt': 'ultralytics',
      'sam_vit_b_01ec64.pth': 'sams',
      'inswapper_128.onnx': 'insightface',
    })
    expect(Object.values(doc.tool.comfydock.models ?? {}).map(m => m.category).sort()).toEqual(['insightface', 'ipadapter', 'sams', 'ultralytics'])
  })
})
