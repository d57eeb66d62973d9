/**
 * @module The typed shape of an environment's pyproject.toml, inferred from the schema in schema.ts (one
 * definition), following the original tool's layout so its manifests stay readable.
 * Machine-specific settings (torch backend, indexes, local paths) never go here: see EnvLocalSettings.
 */
import type { z } from 'zod'
import type {
  comfydockTableSchema, criticalitySchema, modelEntrySchema, nodeEntrySchema, nodeSourceKindSchema, projectSchema,
  pyprojectSchema, workflowEntrySchema, workflowModelEntrySchema, workflowModelNodeRefSchema,
} from './schema'

export { MANIFEST_SCHEMA_VERSION } from './schema'

export type Criticality = z.infer<typeof criticalitySchema>
export type NodeSourceKind = z.infer<typeof nodeSourceKindSchema>
export type ProjectTable = z.infer<typeof projectSchema>
export type NodeEntry = z.infer<typeof nodeEntrySchema>
export type WorkflowModelNodeRef = z.infer<typeof workflowModelNodeRefSchema>
export type WorkflowModelEntry = z.infer<typeof workflowModelEntrySchema>
export type WorkflowEntry = z.infer<typeof workflowEntrySchema>
export type ModelEntry = z.infer<typeof modelEntrySchema>
export type ComfydockTable = z.infer<typeof comfydockTableSchema>
export type Pyproject = z.infer<typeof pyprojectSchema>
