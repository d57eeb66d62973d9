import { PipBackend } from '../../sidecar/python/pip'
import { runPythonBackendContract } from './python-backend.contract'

runPythonBackendContract({ kind: 'pip', make: (ws, env, settings, torchIndexBase) => new PipBackend(ws, env, settings, torchIndexBase) })
