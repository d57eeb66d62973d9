import { describe, expect, it } from 'vitest'
import { dependencyGroupName, inputSignatureKey, parseNodeSpec } from '../../sidecar/nodes'

describe('node specs', () => {
  it('reads registry ids with and without a version', () => {
    expect(parseNodeSpec('ComfyUI-Impact-Pack')).toEqual({ kind: 'registry', id: 'comfyui-impact-pack' })
    expect(parseNodeSpec('comfyui-impact-pack@v8.1.0')).toEqual({ kind: 'registry', id: 'comfyui-impact-pack', version: '8.1.0' })
    expect(parseNodeSpec('comfyui-impact-pack@latest')).toEqual({ kind: 'registry', id: 'comfyui-impact-pack' })
  })

  it('reads git URLs with an optional ref, without mistaking user@host for a ref', () => {
    expect(parseNodeSpec('https://github.com/cubiq/ComfyUI_IPAdapter_plus@v2.0')).toEqual({ kind: 'git', url: 'https://github.com/cubiq/ComfyUI_IPAdapter_plus', ref: 'v2.0' })
    expect(parseNodeSpec('git@github.com:cubiq/ComfyUI_IPAdapter_plus.git')).toEqual({ kind: 'git', url: 'git@github.com:cubiq/ComfyUI_IPAdapter_plus.git' })
    expect(parseNodeSpec('https://user@host.example/r/pack.git')).toEqual({ kind: 'git', url: 'https://user@host.example/r/pack.git' })
    expect(parseNodeSpec('file:///srv/repos/pack@main')).toEqual({ kind: 'git', url: 'file:///srv/repos/pack', ref: 'main' })
    expect(parseNodeSpec('/srv/repos/pack')).toEqual({ kind: 'git', url: '/srv/repos/pack' })
  })

  it('refuses what is neither, with a hint', () => {
    expect(() => parseNodeSpec('not a pack!')).toThrow(expect.objectContaining({ code: 'NODE_SPEC_UNSUPPORTED', hint: expect.stringContaining('comfydock node add') }))
  })
})

describe('names the original tool computes', () => {
  it('names a pack dependency group slug-sha8 of its repository', () => {
    expect(dependencyGroupName('ComfyUI-Impact-Pack', 'https://github.com/ltdrdata/ComfyUI-Impact-Pack')).toBe('comfyui-impact-pack-0cd1b221')
  })
  it('keys node signatures as the original tool does', () => {
    expect(inputSignatureKey('UnaryMath', { operation: 'COMBO', value: 'INT,FLOAT' })).toBe('UnaryMath::1dc6c98c')
    expect(inputSignatureKey('X', {})).toBe('X::_')
  })
})
