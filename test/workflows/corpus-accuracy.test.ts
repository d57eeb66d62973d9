import { describe, expect, it } from 'vitest'
import { analyzeCorpusFile, expected } from './corpus'

const base = (v: string) => v.replace(/\\/g, '/').split('/').pop()!.toLowerCase()

describe.each(Object.keys(expected))('%s', (file) => {
  const exp = expected[file]
  const a = analyzeCorpusFile(file)

  it('lists exactly the expected node types', () => {
    expect(a.node_types).toEqual(exp.node_types)
  })

  it('finds every widget model value on its node (stale group-node defaults aside)', () => {
    for (const w of exp.widget_model_values.filter(w => !w.group_node)) {
      const onNode = a.models.filter(m => m.value === w.value &&
        (w.subgraph ? m.node_id.endsWith(`:${w.node_id}`) : (m.node_id === String(w.node_id) || m.node_id.startsWith(`${w.node_id}:`))))
      expect(onNode, `${w.node_type} #${w.node_id} = ${w.value}`).not.toHaveLength(0)
    }
  })

  it('reports no model file that no widget names (prompt-text embeddings aside)', () => {
    const values = new Set(exp.widget_model_values.map(w => w.value))
    expect(a.models.filter(m => m.via !== 'embedding' && !values.has(m.value)).map(m => m.value)).toEqual([])
  })

  it('puts each declared model a widget uses in the declared folder with its URL', () => {
    for (const m of a.models) {
      const decls = exp.declared_models.filter(d => base(d.name) === base(m.value))
      if (decls.length === 0) continue
      expect(decls.map(d => d.directory), m.value).toContain(m.folder)
      expect(decls.map(d => d.url), m.value).toContain(m.declared_url)
    }
  })

  it('gives every model reference of a core loader a folder', () => {
    for (const m of a.models.filter(m => a.nodes.find(n => n.id === m.node_id)?.core)) expect(m.folder, m.value).not.toBeNull()
  })
})
