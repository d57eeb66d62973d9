import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { RUN_RECORD, makeComfyuiRepo } from '../support/comfyui-repo'
import { makeTempDir } from '../support/temp-dir'

describe('test fixture: ComfyUI-shaped repository', () => {
  it('has tagged commits whose main.py runs in a venv installed from the local wheels', async () => {
    const dir = makeTempDir()
    const repo = await makeComfyuiRepo(dir)
    expect(Object.keys(repo.tags)).toEqual(['v0.3.6', 'v0.3.7'])
    expect(repo.commits).toHaveLength(3)
    const clone = join(dir, 'clone')
    execFileSync('git', ['clone', '-q', repo.url, clone])
    execFileSync('python3', ['-m', 'venv', join(dir, 'venv')])
    const py = join(dir, 'venv', 'bin', 'python')
    execFileSync(py, ['-m', 'pip', 'install', '-q', '-r', join(clone, 'requirements.txt')], { env: { ...process.env, ...repo.indexEnv } })
    execFileSync(py, ['main.py', '--quick-test-for-ci', '--port', '9999', '--extra'], { cwd: clone })
    const record = JSON.parse(readFileSync(join(clone, RUN_RECORD), 'utf8'))
    expect(record).toMatchObject({ port: 9999, unknown: ['--extra'], packages: { 'comfy-dep-a': '1.1', 'comfy-dep-b': '2.0' } })
  })
})
