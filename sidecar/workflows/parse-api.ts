/** @module API ("prompt") format: `{ "<id>": { class_type, inputs: { name: value | [nodeId, slot] } } }` → WorkflowGraph. */
import type { GraphNode, WorkflowGraph } from './graph-types'

type Json = Record<string, any>

export function isApiWorkflow (doc: unknown): doc is Json {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return false
  const values = Object.values(doc)
  const nodes = values.filter(isApiNode).length
  // Tools sometimes add a stray key or two beside the nodes; most entries must still be nodes.
  return nodes > 0 && nodes * 2 >= values.length
}

function isApiNode (v: unknown): v is Json {
  return typeof v === 'object' && v !== null && typeof (v as Json).class_type === 'string'
}

function isLink (v: unknown): boolean {
  return Array.isArray(v) && v.length === 2 && (typeof v[0] === 'string' || typeof v[0] === 'number') && typeof v[1] === 'number'
}

export function parseApiWorkflow (doc: Json): WorkflowGraph {
  const nodes: GraphNode[] = []
  for (const [id, raw] of Object.entries(doc)) {
    if (!isApiNode(raw)) continue
    const inputs: Record<string, unknown> = {}
    for (const [name, v] of Object.entries(typeof raw.inputs === 'object' && raw.inputs !== null ? raw.inputs : {})) {
      if (!isLink(v)) inputs[name] = v
    }
    nodes.push({ id, type: raw.class_type, mode: 'active', inputs, declarations: [] })
  }
  return { format: 'api', nodes, declarations: [], excludedTypes: [], unusedDefinitions: [] }
}
