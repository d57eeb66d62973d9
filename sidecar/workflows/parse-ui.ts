/**
 * @module UI-format workflows (schema 0.4 and 1.0) → WorkflowGraph. Subgraph instances (type = a
 * `definitions.subgraphs` id) are expanded at any depth with scoped ids and promoted widget values; legacy
 * group-node instances (`workflow>Name`, `workflow/Name`, defined in `extra.groupNodes`) are expanded with
 * the instance's own widget values, not the stale defaults kept in the definition.
 */
import { FRONTEND_ONLY_TYPES, type GraphNode, type ModelDeclaration, type NodeMode, type WorkflowGraph } from './graph-types'

type Json = Record<string, any>
const MAX_DEPTH = 32
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class WorkflowShapeError extends Error {}

export function isUiWorkflow (doc: unknown): doc is Json {
  return typeof doc === 'object' && doc !== null && Array.isArray((doc as Json).nodes)
}

function modeOf (raw: unknown, inherited: NodeMode): NodeMode {
  if (inherited !== 'active') return inherited
  return raw === 4 ? 'bypassed' : raw === 2 ? 'muted' : 'active'
}

export function declarationsOf (list: unknown): ModelDeclaration[] {
  if (!Array.isArray(list)) return []
  const out: ModelDeclaration[] = []
  for (const m of list) {
    if (typeof m !== 'object' || m === null || typeof m.name !== 'string' || m.name === '') continue
    const d: ModelDeclaration = { name: m.name }
    for (const k of ['url', 'directory', 'hash', 'hash_type'] as const) if (typeof m[k] === 'string' && m[k]) d[k] = m[k]
    out.push(d)
  }
  return out
}

function collectSubgraphs (doc: Json, into: Map<string, Json>): void {
  const list = doc.definitions?.subgraphs
  if (!Array.isArray(list)) return
  for (const sg of list) {
    if (typeof sg?.id !== 'string' || !Array.isArray(sg.nodes)) continue
    into.set(sg.id, sg)
    collectSubgraphs(sg, into)
  }
}

function groupNameOf (type: string): string | undefined {
  const m = /^workflow[>/](.+)$/.exec(type)
  return m?.[1]
}

function linkTarget (link: unknown): { id: number | string, target: number | string, slot: number } | undefined {
  if (Array.isArray(link)) return { id: link[0], target: link[3], slot: link[4] }
  if (typeof link === 'object' && link !== null) {
    const l = link as Json
    return { id: l.id, target: l.target_id, slot: l.target_slot }
  }
  return undefined
}

/** Instance widget values → { innerNodeId: { inputName: value } }. */
function promotedValues (instance: Json, def: Json): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>()
  const values = instance.widgets_values
  if (!Array.isArray(values) || values.length === 0) return out
  const put = (nodeId: unknown, name: unknown, value: unknown) => {
    if (typeof name !== 'string') return
    const key = String(nodeId)
    out.set(key, { ...out.get(key), [name]: value })
  }
  const links = new Map<string, ReturnType<typeof linkTarget>>()
  for (const l of Array.isArray(def.links) ? def.links : []) {
    const t = linkTarget(l)
    if (t) links.set(String(t.id), t)
  }
  const nodes = new Map<string, Json>((def.nodes as Json[]).map(n => [String(n?.id), n]))
  const defInputs: Json[] = Array.isArray(def.inputs) ? def.inputs : []
  // A subgraph input carries its value to every inner widget it is linked to.
  const putThroughInput = (si: Json | undefined, value: unknown) => {
    for (const linkId of Array.isArray(si?.linkIds) ? si!.linkIds : []) {
      const t = links.get(String(linkId))
      const target = t && nodes.get(String(t.target))
      const input = target?.inputs?.[t!.slot]
      if (input) put(t!.target, input.widget?.name ?? input.name, value)
    }
  }
  // Newer frontends name each promoted widget: [innerNodeId, widgetName], or ["-1", subgraphInputName].
  // When the list and the values disagree in length, a positional guess would misassign: keep inner values.
  const proxy = instance.properties?.proxyWidgets
  if (Array.isArray(proxy)) {
    if (proxy.length !== values.length) return out
    proxy.forEach((p: unknown, i: number) => {
      if (!Array.isArray(p)) return
      if (String(p[0]) === '-1') putThroughInput(defInputs.find(si => si?.name === p[1]), values[i])
      else put(p[0], p[1], values[i])
    })
    return out
  }
  // Otherwise: the subgraph inputs that are not plain sockets on the instance carry widget values, in order.
  const sockets = new Set((Array.isArray(instance.inputs) ? instance.inputs : []).filter((i: Json) => !i?.widget).map((i: Json) => i?.name))
  const widgetInputs = defInputs.filter(i => !sockets.has(i?.name))
  if (widgetInputs.length !== values.length) return out
  widgetInputs.forEach((si, i) => putThroughInput(si, values[i]))
  return out
}

export function parseUiWorkflow (doc: Json): WorkflowGraph {
  const subgraphs = new Map<string, Json>()
  collectSubgraphs(doc, subgraphs)
  const groups: Record<string, Json> = typeof doc.extra?.groupNodes === 'object' && doc.extra.groupNodes !== null ? doc.extra.groupNodes : {}
  const nodes: GraphNode[] = []
  const excluded = new Set<string>()
  const used = new Set<string>()
  const declarations = declarationsOf(doc.models)

  const propsOf = (raw: Json): Json => typeof raw.properties === 'object' && raw.properties !== null ? raw.properties : {}
  // Declarations on a subgraph / group-node instance describe the models of the nodes inside it.
  const instanceDeclarations = (raw: Json, inherited: ModelDeclaration[]) => {
    const own = declarationsOf(propsOf(raw).models)
    declarations.push(...own)
    return [...own, ...inherited]
  }

  const push = (raw: Json, id: string, mode: NodeMode, inherited: ModelDeclaration[], container?: GraphNode['container'], widgets?: unknown, overrides?: Record<string, unknown>) => {
    const props = propsOf(raw)
    const own = declarationsOf(props.models)
    declarations.push(...own)
    const node: GraphNode = { id, type: raw.type, mode, declarations: [...own, ...inherited] }
    const w = widgets ?? raw.widgets_values
    if (Array.isArray(w) || (typeof w === 'object' && w !== null)) node.widgets = w as GraphNode['widgets']
    if (overrides) node.overrides = overrides
    const slots = Array.isArray(raw.inputs) ? raw.inputs.filter((i: Json) => typeof i?.name === 'string' && typeof i?.type === 'string') : []
    if (slots.length) node.inputTypes = Object.fromEntries(slots.map((i: Json) => [i.name, i.type]))
    if (typeof props.cnr_id === 'string' && props.cnr_id) node.cnrId = props.cnr_id
    if (typeof props.aux_id === 'string' && props.aux_id) node.auxId = props.aux_id
    if (typeof props.ver === 'string' && props.ver) node.ver = props.ver.replace(/^v/, '')
    if (container) node.container = container
    nodes.push(node)
  }

  const expandGroup = (instance: Json, name: string, id: string, mode: NodeMode, inherited: ModelDeclaration[]) => {
    const def = groups[name]
    const inner: Json[] = Array.isArray(def?.nodes) ? def.nodes : []
    const sizes = inner.map(n => Array.isArray(n?.widgets_values) ? n.widgets_values.length : 0)
    const values = instance.widgets_values
    const sliced = Array.isArray(values) && values.length === sizes.reduce((a, b) => a + b, 0)
    let at = 0
    inner.forEach((n, i) => {
      const take = sizes[i]
      const widgets = sliced ? values.slice(at, at + take) : undefined
      at += take
      if (typeof n?.type !== 'string') return
      if (FRONTEND_ONLY_TYPES.has(n.type)) { excluded.add(n.type); return }
      push(n, `${id}:${n.index ?? i}`, modeOf(n.mode, mode), inherited, { kind: 'group', id: name }, widgets)
    })
  }

  const walk = (list: unknown[], prefix: string, inherited: NodeMode, decls: ModelDeclaration[], depth: number, stack: string[],
    overrides: Map<string, Record<string, unknown>>, container?: GraphNode['container']) => {
    for (const raw of list as Json[]) {
      if (typeof raw !== 'object' || raw === null) continue
      if (typeof raw.type !== 'string' || raw.type === '') {
        throw new WorkflowShapeError(`node ${JSON.stringify(raw.id ?? null)} has no "type"`)
      }
      const id = prefix + String(raw.id)
      const mode = modeOf(raw.mode, inherited)
      if (FRONTEND_ONLY_TYPES.has(raw.type)) { excluded.add(raw.type); continue }
      const def = subgraphs.get(raw.type)
      if (def) {
        excluded.add('<subgraph instance>')
        used.add(`subgraph:${raw.type}`)
        if (stack.includes(raw.type) || depth >= MAX_DEPTH) throw new WorkflowShapeError(`subgraph ${raw.type} contains itself`)
        walk(def.nodes, id + ':', mode, instanceDeclarations(raw, decls), depth + 1, [...stack, raw.type], promotedValues(raw, def), { kind: 'subgraph', id: raw.type })
        continue
      }
      const group = groupNameOf(raw.type)
      if (group !== undefined && groups[group]) {
        excluded.add('<group node instance>')
        used.add(`group_node:${group}`)
        expandGroup(raw, group, id, mode, instanceDeclarations(raw, decls))
        continue
      }
      // An instance whose definition is missing: no class of that name exists anywhere, so it is no dependency.
      if (UUID.test(raw.type)) { excluded.add('<missing subgraph>'); continue }
      if (group !== undefined) { excluded.add('<missing group node>'); continue }
      push(raw, id, mode, decls, container, undefined, overrides.get(String(raw.id)))
    }
  }

  walk(doc.nodes, '', 'active', [], 0, [], new Map())
  const unusedDefinitions = [
    ...[...subgraphs.keys()].map(k => `subgraph:${k}`),
    ...Object.keys(groups).map(k => `group_node:${k}`),
  ].filter(k => !used.has(k))
  return { format: 'ui', nodes, declarations, excludedTypes: [...excluded].sort(), unusedDefinitions }
}
