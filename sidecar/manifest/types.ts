/**
 * @module The typed shape of an environment's pyproject.toml, following the original tool's
 * schema (research/original-comfydock.md, section 5) so its manifests stay readable.
 * Machine-specific settings (torch backend, indexes, local paths) never go here: see EnvLocalSettings.
 */
export const MANIFEST_SCHEMA_VERSION = 1

export type Criticality = 'required' | 'flexible' | 'optional'
export type NodeSourceKind = 'registry' | 'git' | 'development'

export interface ProjectTable {
  name: string
  version: string
  'requires-python'?: string
  dependencies: string[]
  [key: string]: unknown
}

export interface NodeEntry {
  /** Folder name under ComfyUI/custom_nodes. */
  name: string
  registry_id?: string
  repository?: string
  /** Registry semver, a 40-hex git commit, or "dev". */
  version: string
  source: NodeSourceKind
  download_url?: string
  /** sha256 of the registry zip, checked on every install from cache or network. */
  sha256?: string
  /** The ref the user asked for (git): branch or tag, so `node update` can follow it. */
  ref?: string
  dependency_sources?: string[]
  [key: string]: unknown
}

export interface WorkflowModelNodeRef {
  node_id: string
  node_type: string
  widget_idx: number
  widget_value: string
  [key: string]: unknown
}

export interface WorkflowModelEntry {
  filename: string
  category: string
  criticality: Criticality
  status: 'resolved' | 'unresolved'
  nodes: WorkflowModelNodeRef[]
  hash?: string
  sources?: string[]
  relative_path?: string
  [key: string]: unknown
}

export interface WorkflowEntry {
  path: string
  nodes: string[]
  custom_node_map?: Record<string, string | false>
  models?: WorkflowModelEntry[]
  [key: string]: unknown
}

export interface ModelEntry {
  filename: string
  size: number
  relative_path?: string
  category?: string
  blake3?: string
  sha256?: string
  sources?: string[]
  /** Only `model add` writes one: the environment needs the model itself, not only through a workflow. */
  criticality?: Criticality
  [key: string]: unknown
}

export interface ComfydockTable {
  schema_version?: number
  comfyui_version?: string
  comfyui_version_type?: 'release' | 'branch' | 'commit'
  comfyui_commit_sha?: string
  python_version?: string
  nodes?: Record<string, NodeEntry>
  workflows?: Record<string, WorkflowEntry>
  models?: Record<string, ModelEntry>
  [key: string]: unknown
}

export interface Pyproject {
  project: ProjectTable
  'dependency-groups'?: Record<string, string[]>
  tool: {
    comfydock: ComfydockTable
    uv?: Record<string, unknown>
    [key: string]: unknown
  }
  [key: string]: unknown
}
