import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { MANIFEST_SCHEMA_VERSION, parseManifest, readManifest, serializeManifest, writeManifest } from '../../sidecar/manifest'
import { VERSION } from '../../sidecar/version'
import { makeTempDir } from '../support/temp-dir'

/** The original tool's manifest (research/original-comfydock.md section 5), with keys of other tools. */
const ORIGINAL = `[project]
name = "comfydock-env-portraits"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["torchsde", "einops"]

[dependency-groups]
comfyui-impact-pack-0cd1b221 = ["segment-anything", "scipy>1"]

[tool.comfydock]
comfyui_version = "v0.3.68"
comfyui_version_type = "release"
comfyui_commit_sha = "9f0e1c2d3b4a5f60718293a4b5c6d7e8f9012345"
python_version = "3.11"
torch_backend = "auto"

[tool.comfydock.nodes.comfyui-impact-pack]
name = "ComfyUI-Impact-Pack"
registry_id = "comfyui-impact-pack"
repository = "https://github.com/ltdrdata/ComfyUI-Impact-Pack"
version = "8.22.0"
download_url = "https://cdn.comfy.org/drltdata/comfyui-impact-pack/8.22.0/node.zip"
source = "registry"
someone_elses_key = "kept"

[tool.comfydock.nodes.comfyui-kjnodes]
name = "ComfyUI-KJNodes"
registry_id = "comfyui-kjnodes"
repository = "https://github.com/kijai/ComfyUI-KJNodes.git"
version = "5dcda71011870278c35d92ff77a677ed2e538f2d"
source = "git"

[tool.comfydock.nodes.my-dev-node]
name = "my-dev-node"
version = "dev"
source = "development"

[tool.comfydock.workflows."my portrait ü"]
path = "workflows/my portrait ü.json"
nodes = ["comfyui-impact-pack", "comfyui-kjnodes"]

[tool.comfydock.workflows."my portrait ü".custom_node_map]
"Get Image Size & Count" = "comfyui-kjnodes"
"Fancy Preview (someone)" = false

[[tool.comfydock.workflows."my portrait ü".models]]
filename = "sd_xl_base_1.0.safetensors"
category = "checkpoints"
criticality = "flexible"
status = "resolved"
nodes = [{node_id = "4", node_type = "CheckpointLoaderSimple", widget_idx = 0, widget_value = "SDXL/sd_xl_base_1.0.safetensors"}]
hash = "5c1d2e3f4a5b6c7d"

[tool.comfydock.models]
5c1d2e3f4a5b6c7d = {filename = "sd_xl_base_1.0.safetensors", size = 6938078334, relative_path = "checkpoints/SDXL/sd_xl_base_1.0.safetensors", category = "checkpoints", sources = ["https://huggingface.co/x/y/resolve/main/sd_xl_base_1.0.safetensors"]}

[tool.uv]
constraint-dependencies = ["torch==2.9.0+cu128"]

[tool.othertool]
setting = { nested = [1, 2] }
`

function withNode (fields: string): string {
  return `[project]\nname = "x"\nversion = "0.1.0"\ndependencies = []\n\n[tool.comfydock]\nschema_version = 1\n\n[tool.comfydock.nodes.x]\n${fields}\n`
}

const invalid = (text: string) => {
  try {
    parseManifest(text)
  } catch (err) {
    return err as { code: string, message: string, hint?: string }
  }
  throw new Error('expected the manifest to be refused')
}

describe('the manifest schema', () => {
  it('reads the original tool\'s manifest and keeps every key of other tools through a round-trip', () => {
    const doc = parseManifest(ORIGINAL)
    expect(doc.tool.comfydock.nodes?.['comfyui-kjnodes'].source).toBe('git')
    expect(doc.tool.comfydock.torch_backend).toBe('auto')
    const again = parseManifest(serializeManifest(doc))
    expect(again).toEqual(doc)
    expect(again.tool.othertool).toEqual({ setting: { nested: [1, 2] } })
    expect(again.tool.uv).toEqual({ 'constraint-dependencies': ['torch==2.9.0+cu128'] })
    expect(again.tool.comfydock.nodes?.['comfyui-impact-pack'].someone_elses_key).toBe('kept')
    // a round-trip keeps each table's own key order (no churn in the user's diff)
    expect(Object.keys(again.tool.comfydock.nodes!['comfyui-impact-pack'])).toEqual(['name', 'registry_id', 'repository', 'version', 'download_url', 'source', 'someone_elses_key'])
  })

  it('refuses a manifest of a newer schema, naming both versions and the upgrade', () => {
    const err = invalid(`[tool.comfydock]\nschema_version = ${MANIFEST_SCHEMA_VERSION + 1}\n`)
    expect(err.code).toBe('MANIFEST_UNSUPPORTED_VERSION')
    expect(err.message).toContain(`schema version ${MANIFEST_SCHEMA_VERSION + 1}`)
    expect(err.message).toContain(`comfydock ${VERSION} reads up to version ${MANIFEST_SCHEMA_VERSION}`)
    expect(err.hint).toContain('npm install -g comfydock@latest')
  })

  it.each([
    ['a pack folder that climbs out', 'name = "../../../../../victim"\nversion = "1.0.0"\nsource = "registry"', 'tool.comfydock.nodes.x.name'],
    ['a pack folder with a backslash', 'name = "..\\\\..\\\\victim"\nversion = "1.0.0"\nsource = "registry"', 'tool.comfydock.nodes.x.name'],
    ['an absolute pack folder', 'name = "/etc"\nversion = "1.0.0"\nsource = "registry"', 'tool.comfydock.nodes.x.name'],
    ['a git pack whose version is an option', 'name = "p"\nrepository = "https://h/p"\nversion = "--upload-pack=touch x"\nsource = "git"', 'tool.comfydock.nodes.x.version'],
    ['a ref that is an option', 'name = "p"\nrepository = "https://h/p"\nversion = "abcdef1"\nsource = "git"\nref = "--exec=x"', 'tool.comfydock.nodes.x.ref'],
    ['a repository through a remote helper', 'name = "p"\nrepository = "ext::sh -c touch% /tmp/x"\nversion = "abcdef1"\nsource = "git"', 'tool.comfydock.nodes.x.repository'],
    ['a repository that is an option', 'name = "p"\nrepository = "--upload-pack=x"\nversion = "abcdef1"\nsource = "git"', 'tool.comfydock.nodes.x.repository'],
    ['an unknown source', 'name = "p"\nversion = "1.0.0"\nsource = "somewhere"', 'tool.comfydock.nodes.x.source'],
  ])('refuses %s, naming the field', (_what, fields, path) => {
    const err = invalid(withNode(fields))
    expect(err.code).toBe('MANIFEST_INVALID')
    expect(err.message).toContain(path)
    expect(err.hint).toContain('comfydock rollback HEAD --force')
  })

  it('refuses a ComfyUI commit that git could read as an option', () => {
    const err = invalid('[tool.comfydock]\ncomfyui_commit_sha = "--upload-pack=touch X;git-upload-pack"\n')
    expect(err.code).toBe('MANIFEST_INVALID')
    expect(err.message).toContain('tool.comfydock.comfyui_commit_sha')
  })

  it('refuses a workflow whose name or path leaves the workflow folder', () => {
    expect(invalid('[tool.comfydock.workflows."../../../../../victim"]\npath = "workflows/x.json"\nnodes = []\n').message)
      .toContain('tool.comfydock.workflows."../../../../../victim"')
    expect(invalid('[tool.comfydock.workflows.ok]\npath = "../../victim.json"\nnodes = []\n').message).toContain('tool.comfydock.workflows.ok.path')
  })

  it('takes model paths with subfolders and refuses any component that escapes', () => {
    const model = (rel: string) => `[tool.comfydock.models]\nabc = {filename = "x.safetensors", size = 1, relative_path = "${rel}", category = "checkpoints"}\n`
    expect(parseManifest(model('checkpoints/sdxl/x.safetensors')).tool.comfydock.models?.abc.relative_path).toBe('checkpoints/sdxl/x.safetensors')
    for (const bad of ['../x.safetensors', 'checkpoints/../../x', '/etc/passwd', 'checkpoints//x', 'C:/x', 'checkpoints/con.safetensors']) {
      expect(invalid(model(bad)).message).toContain('tool.comfydock.models.abc.relative_path')
    }
    expect(invalid('[tool.comfydock.models]\nabc = {filename = "..", size = 1}\n').message).toContain('tool.comfydock.models.abc.filename')
  })

  it('never writes a manifest it would refuse to read', async () => {
    const file = join(makeTempDir('schema-write'), 'pyproject.toml')
    writeFileSync(file, ORIGINAL)
    const doc = await readManifest(file)
    doc.tool.comfydock.nodes!['comfyui-impact-pack'].name = '../escape'
    await expect(writeManifest(file, doc)).rejects.toMatchObject({ code: 'MANIFEST_INVALID' })
    expect(readFileSync(file, 'utf8')).toBe(ORIGINAL)
  })
})
