import { describe, it } from 'vitest'
import { UvBackend } from '../../sidecar/python/uv'
import { uvDirOnPath } from '../support/venv'
import { runPythonBackendContract } from './python-backend.contract'

const uvDir = uvDirOnPath()
if (uvDir) {
  runPythonBackendContract({ kind: 'uv', make: (ws, env, settings, torchIndexBase) => new UvBackend(ws, env, settings, `${uvDir}/uv`, torchIndexBase) })
} else {
  // .ci/run installs uv; a machine without it cannot run this half of the contract.
  describe.skip('uv backend contract (uv is not on PATH)', () => { it('needs uv', () => {}) })
}
