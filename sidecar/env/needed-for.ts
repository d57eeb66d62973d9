/**
 * @module Why a model is needed, in words: the workflows using it, or the environment itself for one
 * added with `model add` and no workflow. A leaf module, so the CLI can word plans without loading env.
 */
export function neededFor (need: { workflows: string[] }, list: (names: string[]) => string = names => names.join(', ')): string {
  return need.workflows.length ? `for ${list(need.workflows)}` : 'added to the environment'
}
