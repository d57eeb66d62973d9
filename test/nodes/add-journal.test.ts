/**
 * The journal that lets a killed `node add` be undone: it undoes only what that add left, never a state
 * the user has changed or committed since.
 */
import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openGit } from '../../sidecar/git'
import { readManifest, writeManifest } from '../../sidecar/manifest'
import { noteAddWritten, recoverInterruptedAdd, writeAddJournal } from '../../sidecar/nodes/operations/add-journal'
import { makeWorkspaceWithEnv } from './env-fixture'

/** What a killed add leaves: the journal (its pid is this process, which the journal counts as gone), the pack recorded and in place. */
async function killedAdd (commitAfter: boolean) {
  const { env } = await makeWorkspaceWithEnv()
  const git = openGit(env.cec)
  await git.init()
  await git.commit('start')
  await writeAddJournal(env, 'pack-x', 'pack-x', true)
  const doc = await readManifest(env.pyproject)
  doc.tool.comfydock.nodes = { 'pack-x': { name: 'pack-x', version: '1.0.0', source: 'registry' } }
  await writeManifest(env.pyproject, doc)
  await noteAddWritten(env)
  mkdirSync(join(env.customNodes, 'pack-x'))
  if (commitAfter) { await git.addTracked(); await git.commit('the user committed it after all', { all: true }) }
  return env
}

describe('node add journal', () => {
  it('undoes an add that was killed: pyproject.toml as before, the folder removed', async () => {
    const env = await killedAdd(false)
    expect(await recoverInterruptedAdd(env)).toContain('undid an interrupted `node add pack-x`')
    expect((await readManifest(env.pyproject)).tool.comfydock.nodes).toBeUndefined()
    expect(existsSync(join(env.customNodes, 'pack-x'))).toBe(false)
    expect(await recoverInterruptedAdd(env)).toBeUndefined()
  })

  it('leaves alone a state the user committed since', async () => {
    const env = await killedAdd(true)
    expect(await recoverInterruptedAdd(env)).toBeUndefined()
    expect(Object.keys((await readManifest(env.pyproject)).tool.comfydock.nodes ?? {})).toEqual(['pack-x'])
    expect(existsSync(join(env.customNodes, 'pack-x'))).toBe(true)
  })
})
