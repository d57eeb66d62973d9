/** @module Comfy Registry API shapes we read (research/peer-tools.md section 5.2); every field optional as in the spec. */
export interface RegistryNode {
  id?: string
  name?: string
  description?: string
  author?: string
  repository?: string
  latest_version?: RegistryNodeVersion
  downloads?: number
  github_stars?: number
  search_ranking?: number
  status?: string
  preempted_comfy_node_names?: string[]
  [key: string]: unknown
}

export interface RegistryNodeVersion {
  id?: string
  node_id?: string
  version?: string
  createdAt?: string
  deprecated?: boolean
  dependencies?: string[]
  downloadUrl?: string
  status?: string
  [key: string]: unknown
}

export interface RegistryComfyNode {
  comfy_node_name?: string
  input_types?: string
  category?: string
  deprecated?: boolean
  [key: string]: unknown
}

export interface RegistryPage {
  nodes?: RegistryNode[]
  total?: number
  page?: number
  limit?: number
  totalPages?: number
}

export interface RegistryComfyNodesPage {
  comfy_nodes?: RegistryComfyNode[]
  totalNumberOfPages?: number
}
