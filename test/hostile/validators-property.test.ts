/**
 * Property tests: random path components, relative paths, refs, commit ids and URLs thrown at the
 * validators. Whatever a validator accepts must be harmless where it is used: a path component joins to a
 * direct child of its folder, a relative path stays inside its root, a ref name is one git itself accepts
 * and never reads as an option. Seeded (FC_SEED to vary it), so a failure reproduces.
 */
import { execFileSync } from 'node:child_process'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { pathComponentProblem, relativePathProblem, safeDescendant, safeJoin } from '../../sidecar/fs'
import { assertRevision, gitUrlKind, isCommitId, refNameProblem } from '../../sidecar/git'
import { parseManifest, serializeManifest } from '../../sidecar/manifest'

const SEED = Number(process.env.FC_SEED ?? 20261201)
const run = (prop: fc.IPropertyWithHooks<any> | fc.IAsyncPropertyWithHooks<any>, numRuns = 3000) => fc.assert(prop as any, { seed: SEED, numRuns })

/** Pieces attackers and odd platforms use, mixed with arbitrary Unicode. */
const FRAGMENTS = ['..', '.', '/', '\\', '\0', ':', 'C:', 'c:', 'con', 'NUL', 'com1', 'lpt9', 'aux.json', ' ', '\n', '\t', '~', '-', '--', '*', '?', '"', '|',
  '%2e%2e', '\u202e', '\uff0f', '\u2215', 'é', '画像', '😀', '.git', '.lock', '@{', '^', '..\\..', '/etc/passwd', 'a'.repeat(300)]
const fragment = fc.oneof(fc.constantFrom(...FRAGMENTS), fc.string({ unit: 'grapheme', maxLength: 6 }), fc.string({ unit: 'binary', maxLength: 4 }))
const hostileString = fc.array(fragment, { maxLength: 6 }).map(parts => parts.join(''))

const ROOT = resolve('/srv/workspace/environments/e/ComfyUI/custom_nodes')

describe('path validators (property)', () => {
  it('a name that passes safePathComponent joins to a direct child of its folder, and to nothing else', () => {
    run(fc.property(hostileString, name => {
      if (pathComponentProblem(name)) return
      const joined = resolve(ROOT, name)
      expect(dirname(joined)).toBe(ROOT)
      expect(basename(joined)).toBe(name)
      expect(name).not.toMatch(/[/\\\0]/)
      expect(['', '.', '..']).not.toContain(name)
    }))
  })

  it('a relative path that passes stays inside its root, component by component, and needs no normalising', () => {
    const relPath = fc.array(hostileString, { minLength: 1, maxLength: 5 }).map(parts => parts.join('/'))
    run(fc.property(relPath, rel => {
      if (relativePathProblem(rel)) return
      const target = safeDescendant(ROOT, rel)
      expect(target.startsWith(ROOT + sep)).toBe(true)
      expect(relative(ROOT, target).split(sep).join('/')).toBe(rel)
      for (const part of rel.split('/')) expect(pathComponentProblem(part)).toBeUndefined()
      // the older lexical check agrees with it
      expect(safeJoin(ROOT, rel)).toBe(target)
    }))
  })

  it('accepts ordinary names of every script', () => {
    const ordinary = fc.string({ unit: fc.constantFrom(...'abcXYZ019 _-()[]éß画像😀'.split('')), minLength: 1, maxLength: 40 })
      .filter(s => s.trim() === s && !s.startsWith('.') && !/^(con|prn|aux|nul|com\d|lpt\d)$/i.test(s.split('.')[0]))
    run(fc.property(ordinary, name => {
      expect(pathComponentProblem(name)).toBeUndefined()
      expect(join(ROOT, name)).toBe(`${ROOT}${sep}${name}`)
    }), 1000)
  })
})

describe('git validators (property)', () => {
  it('a commit id is 7 to 64 hex digits and nothing else', () => {
    const hex = fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'.split('')), minLength: 7, maxLength: 64 })
    run(fc.property(hex, id => { expect(isCommitId(id)).toBe(true) }), 1000)
    run(fc.property(hostileString, s => {
      if (isCommitId(s)) expect(s).toMatch(/^[0-9a-f]{7,64}$/i)
    }))
  })

  it('a ref name that passes is one git accepts, and never an option', () => {
    const refLike = fc.array(fc.oneof(hostileString, fc.constantFrom('refs', 'heads', 'v1.0', 'main', 'feature', 'x')), { minLength: 1, maxLength: 4 }).map(p => p.join('/'))
    let checked = 0
    run(fc.property(refLike, ref => {
      if (refNameProblem(ref)) return
      expect(ref.startsWith('-')).toBe(false)
      // real git decides (sampled: one process per accepted name is slow)
      if (checked++ < 300) execFileSync('git', ['check-ref-format', '--allow-onelevel', ref])
    }))
  })

  it('a revision that passes can never be read as an option', () => {
    run(fc.property(hostileString, rev => {
      let ok = true
      try { assertRevision(rev) } catch { ok = false }
      if (ok) expect(rev.startsWith('-') || rev === '' || /[\0-\x1f\x7f]/.test(rev)).toBe(false)
    }))
  })

  it('a URL that passes uses an allowed transport and cannot be an option or a remote helper', () => {
    const url = fc.oneof(hostileString, fc.webUrl(), fc.tuple(fc.constantFrom('ext::', 'fd::', 'ssh://', 'file://', 'http://', 'https://', 'git://', 'ftp://', '-', 'user@host:'), hostileString).map(([a, b]) => a + b))
    run(fc.property(url, u => {
      const r = gitUrlKind(u)
      if (!('kind' in r)) return
      expect(u.startsWith('-')).toBe(false)
      expect(u).not.toMatch(/[\0-\x20\x7f]/)
      expect(/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? /^(https|ssh|git\+ssh|ssh\+git|git|file|http):\/\//i.test(u) : !u.includes('::')).toBe(true)
      if (r.kind === 'http-loopback') expect(new URL(u).hostname).toMatch(/^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/)
    }))
  })
})

describe('manifest round-trip (property)', () => {
  it('any pack and workflow names the schema accepts survive a write and a read unchanged', () => {
    run(fc.property(hostileString, hostileString, (pack, workflow) => {
      const text = `[tool.comfydock.nodes.p]\nname = ${JSON.stringify(pack)}\nversion = "1.0.0"\nsource = "registry"\n\n[tool.comfydock.workflows.${JSON.stringify(workflow)}]\npath = "workflows/w.json"\nnodes = []\n`
      let doc
      try { doc = parseManifest(text) } catch { return }
      expect(pathComponentProblem(pack)).toBeUndefined()
      expect(pathComponentProblem(workflow)).toBeUndefined()
      expect(parseManifest(serializeManifest(doc))).toEqual(doc)
    }), 1000)
  })
})
