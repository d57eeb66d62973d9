import { describe, expect, it } from 'vitest'
import { comparableWorkflow } from '../../sidecar/workflows/normalize'

const graph = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  last_node_id: 1,
  nodes: [{ id: 1, type: 'KSampler', widgets_values: [5, 'randomize', 20] }],
  links: [],
  extra: { ds: { scale: 1, offset: [0, 0] } },
  version: 0.4,
  ...extra,
})

describe('what counts as a change to a workflow', () => {
  it('ignores the root graph id a newer frontend gives a graph saved without one, or with the all-zero one', () => {
    const opened = graph({ id: '9de92160-8b16-44e8-b9db-656c2e90b188', revision: 0 })
    expect(comparableWorkflow(opened)).toBe(comparableWorkflow(graph()))
    expect(comparableWorkflow(opened)).toBe(comparableWorkflow(graph({ id: '00000000-0000-0000-0000-000000000000' })))
  })

  it('keeps a subgraph\'s id, which its instances name as their type', () => {
    const a = graph({ definitions: { subgraphs: [{ id: 'aaaa', nodes: [] }] } })
    const b = graph({ definitions: { subgraphs: [{ id: 'bbbb', nodes: [] }] } })
    expect(comparableWorkflow(a)).not.toBe(comparableWorkflow(b))
  })

  it('still sees a real edit', () => {
    expect(comparableWorkflow(graph())).not.toBe(comparableWorkflow(graph({ nodes: [] })))
  })
})
