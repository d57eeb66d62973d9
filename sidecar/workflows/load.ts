/**
 * @module Any workflow input → a WorkflowGraph: UI or API JSON (text, bytes or an already parsed object),
 * or an image with the workflow embedded. Every problem becomes WORKFLOW_INVALID naming the file.
 */
import { ComfydockError } from '../errors'
import type { WorkflowGraph } from './graph-types'
import { detectImage, readImageText, type ImageKind } from './image-metadata'
import { JsonSyntaxError, parseLenientJson } from './lenient-json'
import { isApiWorkflow, parseApiWorkflow } from './parse-api'
import { isUiWorkflow, parseUiWorkflow, WorkflowShapeError } from './parse-ui'

export type InputFormat = 'ui' | 'api' | ImageKind

export interface LoadedWorkflow {
  format: InputFormat
  graph: WorkflowGraph
  /** The parsed JSON the graph came from (UI preferred over API for images). */
  document: unknown
  /** Images: the text keys found (e.g. ["prompt", "workflow"]). */
  embedded?: string[]
}

function invalid (file: string, what: string, cause?: unknown): ComfydockError {
  return new ComfydockError('WORKFLOW_INVALID', `${file}: ${what}`, {
    hint: 'Check that the file is a ComfyUI workflow (saved from the menu, an API export or a generated PNG/WebP).',
    cause,
  })
}

export function graphFromDocument (doc: unknown, file: string): WorkflowGraph {
  try {
    if (isUiWorkflow(doc)) return parseUiWorkflow(doc)
    if (isApiWorkflow(doc)) return parseApiWorkflow(doc)
  } catch (err) {
    if (err instanceof WorkflowShapeError) throw invalid(file, err.message, err)
    throw err
  }
  throw invalid(file, 'not a workflow: expected a "nodes" list (UI format) or nodes with "class_type" (API format)')
}

function parseText (text: string, file: string, where = ''): unknown {
  try {
    return parseLenientJson(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw invalid(file, `invalid JSON${where}: ${err.message}`, err)
    throw err
  }
}

export function loadWorkflow (input: Buffer | Uint8Array | string | object, file = '<input>'): LoadedWorkflow {
  if (typeof input === 'string') {
    const doc = parseText(input, file)
    const graph = graphFromDocument(doc, file)
    return { format: graph.format, graph, document: doc }
  }
  if (!(input instanceof Uint8Array)) {
    const graph = graphFromDocument(input, file)
    return { format: graph.format, graph, document: input }
  }
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  const kind = detectImage(buf)
  if (!kind) {
    if (buf.length === 0) throw invalid(file, 'the file is empty')
    return loadWorkflow(buf.toString('utf8'), file)
  }
  const texts = readImageText(buf, kind)
  const embedded = Object.keys(texts).sort()
  for (const key of ['workflow', 'prompt']) {
    if (texts[key] === undefined) continue
    const doc = parseText(texts[key], file, ` in the embedded "${key}"`)
    return { format: kind, graph: graphFromDocument(doc, file), document: doc, embedded }
  }
  throw invalid(file, `this ${kind.toUpperCase()} has no embedded workflow (found ${embedded.length ? embedded.join(', ') : 'no text metadata'})`)
}
