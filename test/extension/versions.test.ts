import { describe, expect, it } from 'vitest'
import { compareVersions, fileMenuOf } from '../../extension/versions'

describe('frontend versions', () => {
  it('compares part by part, numerically', () => {
    expect(compareVersions('1.10.0', '1.9.18')).toBeGreaterThan(0)
    expect(compareVersions('1.27.0', '1.27.0')).toBe(0)
    expect(compareVersions('1.4.13', '1.44.19')).toBeLessThan(0)
  })

  // read in each published comfyui-frontend-package's CORE_MENU_COMMANDS: a menu path that does not exist
  // would make a lone top-level group of its own
  it('names the core menu that holds Open/Save: File from 1.26.3 and from the back-port in 1.25.8', () => {
    for (const v of ['1.4.13', '1.20.0', '1.25.7', '1.26.0', '1.26.2']) expect(fileMenuOf(v), v).toBe('Workflow')
    for (const v of ['1.25.8', '1.25.11', '1.26.3', '1.26.15', '1.27.0', '1.44.19', '1.58.1']) expect(fileMenuOf(v), v).toBe('File')
    expect(fileMenuOf(null)).toBe('Workflow')
  })
})
