/**
 * One host seam (issue 12): only extension/host.ts touches ComfyUI, and its types are the official
 * @comfyorg/comfyui-frontend-types, not hand-copied ones. The compiler checks host.ts against those
 * types; this checks that nothing else reaches past it, where a member moved in a new frontend would
 * give no compiler error.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(__dirname, '..', '..')
const EXT = join(ROOT, 'extension')

function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const p = join(dir, e.name)
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : []
  })
}

/** Comments say why and may name ComfyUI's members; only code counts. */
function code (text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')
}

/** What only the host seam may use: ComfyUI's modules, globals and internals. */
const COMFYUI = [
  /from\s+['"][^'"]*scripts\/(app|api)(\.js)?['"]/,
  /@comfyorg\/comfyui-frontend-types/,
  /\bcomfyAPI\b/,
  /\bLiteGraph\b/,
  /\bLGraph(Canvas|Node)?\b/,
  /__COMFYUI_FRONTEND_VERSION__/,
  /\bextensionManager\b/,
  /\bchangeTracker\b/,
  /\b(captureCanvasState|checkState|syncWorkflows|loadGraphData)\b/,
  /(^|[^.\w$])(app|api|comfyApp|comfyApi)\s*\??\.\s*[a-zA-Z_$]/m,
  /\bimport\s*\{[^}]*\b(app|api)\b[^}]*\}\s*from\s*['"]\.\/host['"]/,
]

describe('the host seam', () => {
  const files = sources(EXT)
  const host = join(EXT, 'host.ts')

  it('is the only file of the extension that touches ComfyUI', () => {
    expect(files).toContain(host)
    const reached: string[] = []
    for (const file of files.filter(f => f !== host)) {
      const text = code(readFileSync(file, 'utf8'))
      for (const re of COMFYUI) {
        const m = re.exec(text)
        if (m) reached.push(`${relative(ROOT, file)}: ${m[0].trim()}`)
      }
    }
    expect(reached).toEqual([])
  })

  it('takes ComfyUI\'s types from @comfyorg/comfyui-frontend-types instead of copies of its own', () => {
    const text = code(readFileSync(host, 'utf8'))
    expect(text).toMatch(/import\s+type\s*\{[^}]*\bComfyApp\b[^}]*\}\s*from\s*['"]@comfyorg\/comfyui-frontend-types['"]/)
    // hand-made shapes of the frontend's objects (what host.ts held before: ComfyWorkflowLike...)
    const copies = [...text.matchAll(/\b(?:interface|type)\s+(\w*(?:Like|Comfy\w*|Workflow\w*|Tracker\w*|Graph(?!Json)\w*|Store\w*))\b\s*(?:=|\{|extends)/g)]
      .map(m => m[1])
      .filter(name => !/^(?:ComfyWorkflow|ChangeTracker|WorkflowStore)$/.test(name) || !new RegExp(`type\\s+${name}\\s*=\\s*(?:NonNullable<|ExtensionManager\\[)`).test(text))
    expect(copies).toEqual([])
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect({ ...pkg.dependencies, ...pkg.devDependencies }).toHaveProperty('@comfyorg/comfyui-frontend-types')
  })
})
