/**
 * @module `workflow model importance NAME MODEL LEVEL`: how much a workflow needs one of its models. Kept in
 * `model_importance` of the workflow's entry so later resolutions keep the user's word over folder defaults.
 */
import { ComfydockError } from '../errors'
import { withManifestTransaction, writeManifest, type Criticality } from '../manifest'
import type { EnvPaths } from '../workspace'
import { analyzeWorkflow } from './analyze'
import { baseName } from './model-refs'
import { currentContent, readBrowserWorkflows } from './live-copy'
import { assertWorkflowName } from './store'

const LEVELS: Criticality[] = ['required', 'flexible', 'optional']

export async function setModelImportance (env: EnvPaths, workflowArg: string, model: string, level: string): Promise<{ workflow: string, model: string, criticality: Criticality }> {
  const workflow = assertWorkflowName(workflowArg)
  if (!LEVELS.includes(level as Criticality)) {
    throw new ComfydockError('INVALID_ARGUMENT', `"${level}" is not an importance level`, { hint: `Use one of: ${LEVELS.join(', ')}.` })
  }
  const filename = baseName(model)
  const live = (await currentContent(env, workflow, await readBrowserWorkflows(env)))?.bytes
  return withManifestTransaction(env.pyproject, async (doc) => {
    const entry = doc.tool.comfydock.workflows?.[workflow]
    if (!entry) throw new ComfydockError('WORKFLOW_NOT_TRACKED', `workflow "${workflow}" is not tracked`, { hint: `Run \`comfydock workflow track ${workflow}\` first.` })
    const known = new Set([
      ...(entry.models ?? []).map(m => m.filename),
      ...(live ? analyzeWorkflow(live, { file: `${workflow}.json` }).models.map(m => baseName(m.path)) : []),
    ])
    if (!known.has(filename)) {
      throw new ComfydockError('MODEL_NOT_FOUND', `workflow "${workflow}" uses no model "${filename}"`, {
        hint: known.size ? `Its models: ${[...known].join(', ')}.` : `Run \`comfydock workflow show ${workflow}\` to see its models.`,
      })
    }
    entry.model_importance = { ...(entry.model_importance as Record<string, string> | undefined), [filename]: level }
    for (const m of entry.models ?? []) if (m.filename === filename) m.criticality = level as Criticality
    await writeManifest(env.pyproject, doc)
    return { workflow, model: filename, criticality: level as Criticality }
  })
}
