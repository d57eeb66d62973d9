/** PEP 440 as Python's `packaging` has it: how the machine's torch is held against a pack's requirement. */
import { expect, it } from 'vitest'
import { compareVersions, parseRequirement, parseVersion, satisfies } from '../../sidecar/python/pep440'

it('an installed version against specifiers: local builds, pre-releases, wildcards, compatible releases', () => {
  const t: Array<[string, string, boolean]> = [
    ['1.13.0a0+gitunknown', '>=1.9.1', true], ['1.13.0a0+gitunknown', '>=1.13', false], ['1.13.0a0+gitunknown', '==1.13.0a0', true],
    ['2.9.0+cu128', '==2.9.0', true], ['2.9.0+cu128', '==2.9.0+cpu', false], ['2.9.0+cu128', '>=2,<3', true], ['2.9.0', '>=3', false],
    ['2.9.0', '~=2.8', true], ['2.9.0', '~=2.8.0', false], ['2.9.0', '==2.*', true], ['2.9.0', '!=2.9.*', false], ['2.9.0', '<2.9.0', false],
    ['2.9.0rc1', '<2.9.0', false], ['2.9.0.post1', '>2.9.0', false], ['2.9.1', '>2.9.0', true], ['1.0.dev1', '<1.0a1', true], ['2.9.0', '', true],
  ]
  for (const [v, s, want] of t) expect([v, s, satisfies(v, s)]).toEqual([v, s, want])
})

it('reads requirements in both spellings, names normalised', () => {
  expect(parseRequirement('torch (>=2.1, <3) ; sys_platform == "linux"')).toEqual({ name: 'torch', extras: [], specifier: '>=2.1,<3', marker: 'sys_platform == "linux"' })
})

it('reads requirements in both spellings, names normalised', () => {
  expect(parseRequirement('Torch_Audio[x]>=2')).toMatchObject({ name: 'torch-audio', extras: ['x'], specifier: '>=2' })
})

it('orders a dev release before the pre-releases of the same version', () => {
  expect(compareVersions(parseVersion('1.0a1')!, parseVersion('1.0.dev1')!)).toBe(1)
})
