/** @module Workflows: parsing every workflow format, model and node analysis, tracking and commits. */
export { analyzeWorkflow, summarizeModels, type AnalyzeOptions, type AnalyzedNode, type WorkflowAnalysis, type WorkflowModelSummary } from './analyze'
export { loadWorkflow, type InputFormat, type LoadedWorkflow } from './load'
export { extractModelReferences, hasModelExtension, normalizeModelPath, MODEL_EXTENSIONS, type ModelReference } from './model-refs'
export { builtinLoaderInputs, isBuiltinCoreType, liveLoaderInputs, widgetInputs, type LoaderInput, type ModelLists, type ObjectInfo } from './loader-table'
export { folderCriticality, strongest } from './criticality'
export { FRONTEND_ONLY_TYPES, type GraphNode, type ModelDeclaration, type NodeMode, type WorkflowGraph } from './graph-types'
export { parseLenientJson } from './lenient-json'
