/**
 * @module What counts as a change to a workflow. The frontend rewrites UI-only state on every save (canvas
 * offset and zoom `extra.ds`, `extra.frontendVersion`, `revision`) and re-rolls seeds in randomize mode; none
 * of that is a change the user made (research §3.3). Nor is the graph `id`: frontends from about 1.2x give a
 * graph saved without one (or with the all-zero one) a new random id when it is opened.
 */
const SEED_CONTROL = new Set(['randomize', 'increment', 'decrement'])

function stripNode (node: unknown): unknown {
  if (typeof node !== 'object' || node === null) return node
  const n = node as Record<string, unknown>
  const w = n.widgets_values
  if (!Array.isArray(w)) return n
  // A number directly followed by a seed-control mode is a seed the frontend rolls by itself.
  const widgets = w.map((v, i) => typeof v === 'number' && typeof w[i + 1] === 'string' && SEED_CONTROL.has(w[i + 1] as string) ? 0 : v)
  return { ...n, widgets_values: widgets }
}

function strip (doc: unknown, root = true): unknown {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return doc
  const d = { ...(doc as Record<string, any>) }
  delete d.revision
  // a subgraph's id is what its instances name as their type: only the root graph's is identity noise
  if (root) delete d.id
  if (typeof d.extra === 'object' && d.extra !== null) {
    const { ds: _ds, frontendVersion: _fv, ...rest } = d.extra
    d.extra = rest
  }
  if (Array.isArray(d.nodes)) d.nodes = d.nodes.map(stripNode)
  if (Array.isArray(d.definitions?.subgraphs)) {
    d.definitions = { ...d.definitions, subgraphs: d.definitions.subgraphs.map((s: unknown) => strip(s, false)) }
  }
  return d
}

function canonical (v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v).sort().map(k => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(v) ?? 'null'
}

/** A stable text of the workflow without UI-only noise: equal texts mean no user change. */
export function comparableWorkflow (doc: unknown): string {
  return canonical(strip(doc))
}
