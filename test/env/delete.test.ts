import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { deleteEnvironment, removeEnvironmentDir } from '../../sidecar/env'
import { Workspace, envPaths } from '../../sidecar/workspace'
import { makeTempDir } from '../support/temp-dir'

describe('deleting environments never reaches outside the environment folder', () => {
  it('removes only the link when an environment folder is a symlink to somewhere else', async () => {
    const dir = makeTempDir('del')
    const ws = (await Workspace.init(join(dir, 'ws'))).workspace
    const outside = join(dir, 'precious')
    mkdirSync(join(outside, '.cec'), { recursive: true })
    writeFileSync(join(outside, '.cec', 'pyproject.toml'), '[project]\nname = "x"\n')
    writeFileSync(join(outside, 'data.txt'), 'keep me')
    symlinkSync(outside, join(ws.paths.environments, 'linked'))
    await deleteEnvironment(ws, 'linked')
    expect(existsSync(join(ws.paths.environments, 'linked'))).toBe(false)
    expect(readFileSync(join(outside, 'data.txt'), 'utf8')).toBe('keep me')
  })

  it('deletes a half-made folder (no pyproject) but refuses paths that are not environment folders', async () => {
    const dir = makeTempDir('del')
    const ws = (await Workspace.init(join(dir, 'ws'))).workspace
    mkdirSync(join(ws.paths.environments, 'half', 'ComfyUI'), { recursive: true })
    await deleteEnvironment(ws, 'half')
    expect(existsSync(join(ws.paths.environments, 'half'))).toBe(false)
    await expect(deleteEnvironment(ws, 'never-made')).rejects.toMatchObject({ code: 'ENV_NOT_FOUND' })
    // a crafted EnvPaths pointing at the workspace itself is refused
    const sneaky = { ...envPaths(ws.root, 'x'), root: ws.root }
    await expect(removeEnvironmentDir(ws, sneaky)).rejects.toMatchObject({ code: 'PATH_OUTSIDE_WORKSPACE' })
    expect(lstatSync(ws.paths.workspaceFile).isFile()).toBe(true)
  })
})
