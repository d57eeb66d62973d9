/**
 * Builds a real, local, ComfyUI-shaped git repository for tests (no GitHub here).
 *
 * History (branch `master`, like upstream):
 *   commits[0]  tag v0.3.6   requirements: comfy-dep-a==1.0
 *   commits[1]  tag v0.3.7   requirements: comfy-dep-a>=1.1, comfy-dep-b
 *   commits[2]  (untagged)   a change after v0.3.7, same requirements
 *
 * `main.py` is a small stand-in for ComfyUI's: it parses --listen/--port (and keeps unknown args),
 * imports the packages named in requirements.txt (so a broken venv fails loudly), writes what it saw to
 * `<ComfyUI>/user/comfyui-run.json` (argv, cwd, interpreter, package versions) and serves
 * `GET /api/object_info` with http.server until SIGTERM/SIGINT. `--quick-test-for-ci` exits after writing.
 *
 * The wheels for every requirement are in `findLinks`; `indexEnv` makes pip and uv install from there only.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { buildWheel, localIndexEnv } from './wheels'

export interface ComfyuiRepo {
  /** Path of the repository (use as `comfyui_source`; `file://${url}` works too). */
  url: string
  /** Folder with the wheels for every requirement of every commit. */
  findLinks: string
  /** tag name -> commit sha. */
  tags: Record<string, string>
  /** All commits, oldest first. */
  commits: string[]
  /** The env vars that make pip and uv install from `findLinks` only. */
  indexEnv: Record<string, string>
}

/** The file main.py writes when it starts, relative to the ComfyUI folder. */
export const RUN_RECORD = join('user', 'comfyui-run.json')

const MAIN_PY = `"""Stand-in for ComfyUI's main.py (test fixture)."""
import argparse, importlib, json, os, signal, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import folder_paths
import nodes

parser = argparse.ArgumentParser()
parser.add_argument("--listen", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8188)
parser.add_argument("--cpu", action="store_true")
parser.add_argument("--quick-test-for-ci", action="store_true")
args, unknown = parser.parse_known_args()

here = os.path.dirname(os.path.abspath(__file__))
versions = {}
with open(os.path.join(here, "requirements.txt")) as f:
    for line in f:
        req = line.split("#")[0].strip()
        if not req:
            continue
        name = req
        for sep in "<>=!~;[ ":
            name = name.split(sep)[0]
        mod = importlib.import_module(name.replace("-", "_").lower())
        versions[name] = getattr(mod, "__version__", "?")

record = {
    "argv": sys.argv[1:],
    "listen": args.listen,
    "port": args.port,
    "unknown": unknown,
    "cwd": os.getcwd(),
    "executable": sys.executable,
    "prefix": sys.prefix,
    "packages": versions,
    "extra_model_paths": os.path.exists(os.path.join(here, "extra_model_paths.yaml")),
}
os.makedirs(os.path.join(here, "user"), exist_ok=True)
with open(os.path.join(here, "user", "comfyui-run.json"), "w") as f:
    json.dump(record, f)

if args.quick_test_for_ci:
    sys.exit(0)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.split("?")[0] in ("/api/object_info", "/object_info"):
            body = json.dumps({k: {"name": k, "input": {"required": {}}} for k in nodes.NODE_CLASS_MAPPINGS}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *a):
        pass


server = ThreadingHTTPServer((args.listen, args.port), Handler)


def stop(signum, frame):
    with open(os.path.join(here, "user", "comfyui-stopped.json"), "w") as f:
        json.dump({"signal": signum}, f)
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
signal.signal(signal.SIGINT, stop)
print(f"To see the GUI go to: http://{args.listen}:{args.port}", flush=True)
server.serve_forever()
`

/**
 * Enough of ComfyUI's folder_paths for the stand-in and for tools that import it from a ComfyUI folder
 * (ComfyUI-Manager's cm-cli reads the custom_nodes paths and the system user folder through it).
 */
const FOLDER_PATHS_PY = `import os
base_path = os.path.dirname(os.path.realpath(__file__))
models_dir = os.path.join(base_path, "models")
user_directory = os.path.join(base_path, "user")
folder_names_and_paths = {
    "checkpoints": ([os.path.join(models_dir, "checkpoints")], {".ckpt", ".safetensors"}),
    "loras": ([os.path.join(models_dir, "loras")], {".safetensors"}),
    "vae": ([os.path.join(models_dir, "vae")], {".safetensors"}),
    "custom_nodes": ([os.path.join(base_path, "custom_nodes")], set()),
}


def get_folder_paths(folder_name):
    return folder_names_and_paths[folder_name][0][:]


def add_model_folder_path(folder_name, full_folder_path, is_default=False):
    paths, exts = folder_names_and_paths.setdefault(folder_name, ([], set()))
    if full_folder_path not in paths:
        paths.insert(0, full_folder_path) if is_default else paths.append(full_folder_path)


def get_user_directory():
    return user_directory


def get_system_user_directory(name="system"):
    return os.path.join(user_directory, "__" + name)
`

/** ComfyUI's parsed command line, as modules that run inside it (ComfyUI-Manager) import it. */
const CLI_ARGS_PY = `import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--listen", default="127.0.0.1")
parser.add_argument("--port", type=int, default=8188)
parser.add_argument("--enable-manager", action="store_true")
parser.add_argument("--enable-manager-legacy-ui", action="store_true")
args, _unknown = parser.parse_known_args([])
`

const EXTRA_CONFIG_PY = `import os
import yaml
import folder_paths


def load_extra_path_config(yaml_path):
    with open(yaml_path, "r", encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    here = os.path.dirname(os.path.abspath(yaml_path))
    for conf in config.values():
        if not conf:
            continue
        base = os.path.join(here, os.path.expanduser(conf.pop("base_path", "")))
        conf.pop("is_default", None)
        for folder, paths in conf.items():
            for p in str(paths).split("\\n"):
                if p:
                    folder_paths.add_model_folder_path(folder, os.path.normpath(os.path.join(base, p)))
`

const NODES_PY = `NODE_CLASS_MAPPINGS = {
    "CheckpointLoaderSimple": object,
    "KSampler": object,
    "CLIPTextEncode": object,
    "VAEDecode": object,
    "SaveImage": object,
}
`

/** Fixed identity and dates: the same repository (and commit ids) on every machine and run. */
let commitClock = 0
function git (dir: string, args: string[]): string {
  const date = `${1735689600 + commitClock++} +0000`
  return execFileSync('git', ['-C', dir, '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 'Fixture', GIT_AUTHOR_EMAIL: 'fixture@example.invalid',
      GIT_COMMITTER_NAME: 'Fixture', GIT_COMMITTER_EMAIL: 'fixture@example.invalid',
      GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date,
    },
  }).trim()
}

function write (root: string, rel: string, text: string): void {
  const file = join(root, rel)
  mkdirSync(join(file, '..'), { recursive: true })
  writeFileSync(file, text)
}

/** Creates the repository and its wheels under `parent` (a test temp dir). */
export async function makeComfyuiRepo (parent: string): Promise<ComfyuiRepo> {
  const url = join(parent, 'ComfyUI-source')
  const findLinks = join(parent, 'wheels')
  await buildWheel(findLinks, { name: 'comfy-dep-a', version: '1.0' })
  await buildWheel(findLinks, { name: 'comfy-dep-a', version: '1.1' })
  await buildWheel(findLinks, { name: 'comfy-dep-b', version: '2.0' })

  mkdirSync(url, { recursive: true })
  commitClock = 0
  git(url, ['init', '-q', '-b', 'master'])
  write(url, 'main.py', MAIN_PY)
  write(url, 'folder_paths.py', FOLDER_PATHS_PY)
  write(url, 'nodes.py', NODES_PY)
  write(url, 'utils/__init__.py', '')
  write(url, 'comfy/__init__.py', '')
  write(url, 'comfy/cli_args.py', CLI_ARGS_PY)
  write(url, 'utils/extra_config.py', EXTRA_CONFIG_PY)
  write(url, 'comfyui_version.py', '__version__ = "0.3.6"\n')
  write(url, 'requirements.txt', 'comfy-dep-a==1.0\n')
  write(url, 'custom_nodes/example_node.py.example', '# example custom node\n')
  for (const d of ['checkpoints', 'loras', 'vae']) write(url, `models/${d}/put_${d}_here`, '')
  write(url, 'user/.gitkeep', '')
  write(url, '.gitignore', '/user/*\n!/user/.gitkeep\n/models/**/*.safetensors\n/models/**/*.bin\n/custom_nodes/*/\n/custom_nodes/*.py\n__pycache__/\nvenv/\n.venv/\nextra_model_paths.yaml\n')
  git(url, ['add', '-A'])
  git(url, ['commit', '-q', '-m', 'ComfyUI 0.3.6'])
  git(url, ['tag', 'v0.3.6'])
  const c0 = git(url, ['rev-parse', 'HEAD'])

  write(url, 'comfyui_version.py', '__version__ = "0.3.7"\n')
  write(url, 'requirements.txt', 'comfy-dep-a>=1.1\ncomfy-dep-b\n')
  git(url, ['commit', '-q', '-am', 'ComfyUI 0.3.7'])
  git(url, ['tag', 'v0.3.7'])
  const c1 = git(url, ['rev-parse', 'HEAD'])

  write(url, 'nodes.py', NODES_PY.replace('}\n', '    "LatentUpscale": object,\n}\n'))
  git(url, ['commit', '-q', '-am', 'Add LatentUpscale after 0.3.7'])
  const c2 = git(url, ['rev-parse', 'HEAD'])

  return {
    url,
    findLinks,
    tags: { 'v0.3.6': c0, 'v0.3.7': c1 },
    commits: [c0, c1, c2],
    indexEnv: localIndexEnv([findLinks]),
  }
}
