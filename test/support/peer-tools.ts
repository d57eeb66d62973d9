/**
 * The peer tools at pinned versions, each in its own scratch venv (never a dependency of comfydock).
 * Used by the fixture script, the cm-cli restore test and `npm run bench -- peers`. PyPI is reachable;
 * nothing else is. CI installs them from PyPI on first use (cached in $PEERS_SCRATCH, default .peers/).
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

export const PEER_TOOLS = {
  cfd: { pkg: 'comfydock-cli==1.0.11', bin: 'cfd', extra: [] as string[] },
  cg: { pkg: 'comfygit==0.7.1', bin: 'cg', extra: [] as string[] },
  // cm-cli imports aiohttp and yaml, which ComfyUI's own venv normally provides.
  mgr: { pkg: 'comfyui-manager==4.3', bin: 'cm-cli', extra: ['aiohttp', 'pyyaml'] },
  ccli: { pkg: 'comfy-cli==1.23.0', bin: 'comfy', extra: [] as string[] },
} as const

export type PeerTool = keyof typeof PEER_TOOLS

/** Where venvs and worlds go: $PEERS_SCRATCH, else .peers/ in the repository (git-ignored). */
export function scratchDir (): string {
  const dir = resolve(process.env.PEERS_SCRATCH ?? '.peers')
  mkdirSync(dir, { recursive: true })
  return dir
}

function uvBinary (): string | null {
  for (const c of [process.env.UV, '/opt/uv/bin/uv']) if (c && existsSync(c)) return c
  try {
    return execFileSync('sh', ['-c', 'command -v uv'], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/**
 * The environment the peer tools are installed with: PyPI itself. A test's world points pip and uv at its
 * own wheels (PIP_ and UV_ index variables); installing cm-cli under those finds nothing.
 */
function pypiEnv (): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(PIP|UV)_/.test(k)))
}

/** The venv of `tool` (made on first use) and the path of its command. */
export function peerVenv (tool: PeerTool): { venv: string, bin: string, python: string, sitePackages: string } {
  const spec = PEER_TOOLS[tool]
  const venv = join(scratchDir(), 'venvs', tool)
  const python = join(venv, 'bin', 'python')
  const marker = join(venv, `.installed-${spec.pkg}`)
  if (!existsSync(marker)) {
    const uv = uvBinary()
    if (uv) {
      // The machine's python3: cm-cli's code runs inside a ComfyUI venv made from it (same compiled modules).
      const python3 = execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim()
      execFileSync(uv, ['venv', '-q', '--allow-existing', '-p', python3, venv], { stdio: 'inherit', env: pypiEnv() })
      execFileSync(uv, ['pip', 'install', '-q', '--python', python, spec.pkg, ...spec.extra], { stdio: 'inherit', env: pypiEnv() })
    } else {
      execFileSync('python3', ['-m', 'venv', venv], { stdio: 'inherit', env: pypiEnv() })
      execFileSync(python, ['-m', 'pip', 'install', '-q', spec.pkg, ...spec.extra], { stdio: 'inherit', env: pypiEnv() })
    }
    execFileSync('touch', [marker])
  }
  const sitePackages = execFileSync(python, ['-c', 'import sysconfig; print(sysconfig.get_paths()["purelib"])'], { encoding: 'utf8' }).trim()
  return { venv, bin: join(venv, 'bin', spec.bin), python, sitePackages }
}

export function peerVersion (tool: PeerTool): string {
  return PEER_TOOLS[tool].pkg.split('==')[1]
}

/**
 * `python -c CM_CLI_MAIN <args>` runs cm-cli inside another interpreter (a ComfyUI's venv), as
 * ComfyUI-Manager runs inside ComfyUI: its code comes from its scratch venv (env CM_CLI_SITE, appended to
 * sys.path rather than PYTHONPATH, which the pip freeze it starts would inherit). COMFYUI_PATH names the ComfyUI.
 */
export const CM_CLI_MAIN = 'import os, sys; sys.path.append(os.environ["CM_CLI_SITE"]); sys.argv[0] = "cm-cli"; from cm_cli import main; sys.exit(main())'

/** torchvision.datasets.utils.download_url(url, root, filename), which ComfyUI-Manager borrows to fetch registry archives. */
export const TORCHVISION_DOWNLOAD = [
  'import os, shutil, urllib.request',
  'def download_url(url, root, filename=None, md5=None, max_redirect_hops=3):',
  '    os.makedirs(root, exist_ok=True)',
  '    with urllib.request.urlopen(url) as r, open(os.path.join(root, filename or os.path.basename(url)), "wb") as f:',
  '        shutil.copyfileobj(r, f)',
  '',
].join('\n')
