/** @module The one normalised graph every workflow format is read into. */

export type WorkflowFormat = 'ui' | 'api'
export type NodeMode = 'active' | 'muted' | 'bypassed'

/** A `models` entry from `properties.models` or the top-level `models` list: a hint, never a reference by itself. */
export interface ModelDeclaration {
  name: string
  url?: string
  directory?: string
  hash?: string
  hash_type?: string
}

export interface GraphNode {
  /** Scoped id: "12"; inside a subgraph instance "106:89" (instance path, as ComfyUI's execution ids); group-node member "175:8" (instance:index). */
  id: string
  type: string
  /** Effective mode: a node inside a bypassed container is bypassed too. */
  mode: NodeMode
  /** UI `widgets_values`: a list (by widget position) or an object (by widget name). */
  widgets?: unknown[] | Record<string, unknown>
  /** API format: the named inputs that are values, not links. */
  inputs?: Record<string, unknown>
  /** Values promoted onto a subgraph instance, by the inner node's input name; they win over `widgets`. */
  overrides?: Record<string, unknown>
  /** UI input slots as name → type: the node-signature key of node_mappings.json. */
  inputTypes?: Record<string, string>
  cnrId?: string
  auxId?: string
  ver?: string
  declarations: ModelDeclaration[]
  /** Where the node was defined when it came from a subgraph or legacy group-node definition. */
  container?: { kind: 'subgraph' | 'group'; id: string }
}

export interface WorkflowGraph {
  format: WorkflowFormat
  nodes: GraphNode[]
  /** Every declaration: top-level plus the per-node ones of the nodes in `nodes`. */
  declarations: ModelDeclaration[]
  /** Frontend-only node types and instance kinds that occurred but are not dependencies. */
  excludedTypes: string[]
  /** Subgraph / group-node definitions no node instantiates ("subgraph:<id>", "group_node:<name>"). */
  unusedDefinitions: string[]
}

/** Nodes the browser draws but ComfyUI never runs: no package, no Python. */
export const FRONTEND_ONLY_TYPES: ReadonlySet<string> = new Set(['Note', 'MarkdownNote', 'Reroute', 'PrimitiveNode'])
