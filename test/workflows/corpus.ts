/** The real-workflow corpus (copied unchanged from /work/shared/corpus, licenses alongside) and its expected facts. */
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { analyzeWorkflow, type WorkflowAnalysis } from '../../sidecar/workflows'

export const corpusDir = resolve(import.meta.dirname, 'corpus')
export const fixturesDir = resolve(import.meta.dirname, 'fixtures')

export interface ExpectedWidgetValue { node_id: number, node_type: string, value: string, mode?: number, subgraph?: string, group_node?: string }
export interface Expected {
  format: 'ui' | 'api' | 'png'
  declared_models: Array<{ name: string, directory?: string, url?: string }>
  node_types: string[]
  widget_model_values: ExpectedWidgetValue[]
  unused_definitions: string[]
  embedded?: string[]
}

export const expected: Record<string, Expected> = JSON.parse(readFileSync(join(corpusDir, 'expected.json'), 'utf8'))

export function corpusPath (file: string): string {
  return join(corpusDir, expected[file]?.format === 'png' ? 'png' : 'workflows', file)
}

export function analyzeCorpusFile (file: string): WorkflowAnalysis {
  return analyzeWorkflow(readFileSync(corpusPath(file)), { file })
}
