/**
 * @module Comfy Registry API shapes we read (research/peer-tools.md section 5.2), as schemas: every answer
 * is checked before it is used, since a registry is a stranger too. Every field is optional as in the spec;
 * unknown fields pass through. A version or download URL that could not be recorded in a manifest is
 * refused here, where the answer comes in; names and URLs that become folders or reach git are checked
 * again where they are used (safePathComponent, the git wrapper's URL allow-list).
 */
import { z } from 'zod'

const version = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_~-]*$/, 'not a version')
const httpUrl = z.string().regex(/^https?:\/\/\S+$/i, 'not an http(s) URL')

export const registryNodeVersionSchema = z.object({
  id: z.string().optional(),
  node_id: z.string().optional(),
  version: version.optional(),
  createdAt: z.string().optional(),
  deprecated: z.boolean().optional(),
  dependencies: z.array(z.string()).nullish().transform(v => v ?? undefined),
  downloadUrl: z.union([httpUrl, z.literal('')]).nullish().transform(v => v || undefined),
  status: z.string().optional(),
}).passthrough()

export const registryNodeSchema = z.object({
  id: z.string().optional(),
  name: z.string().optional(),
  description: z.string().nullish().transform(v => v ?? undefined),
  author: z.string().nullish().transform(v => v ?? undefined),
  repository: z.string().nullish().transform(v => v || undefined),
  latest_version: registryNodeVersionSchema.nullish().transform(v => v ?? undefined),
  downloads: z.number().optional(),
  github_stars: z.number().optional(),
  search_ranking: z.number().nullish().transform(v => v ?? undefined),
  status: z.string().optional(),
  preempted_comfy_node_names: z.array(z.string()).nullish().transform(v => v ?? undefined),
}).passthrough()

export const registryComfyNodeSchema = z.object({
  comfy_node_name: z.string().optional(),
  input_types: z.string().nullish().transform(v => v ?? undefined),
  category: z.string().nullish().transform(v => v ?? undefined),
  deprecated: z.boolean().optional(),
}).passthrough()

export const registryPageSchema = z.object({
  nodes: z.array(registryNodeSchema).nullish().transform(v => v ?? undefined),
  total: z.number().optional(),
  page: z.number().optional(),
  limit: z.number().optional(),
  totalPages: z.number().optional(),
}).passthrough()

export const registryComfyNodesPageSchema = z.object({
  comfy_nodes: z.array(registryComfyNodeSchema).nullish().transform(v => v ?? undefined),
  totalNumberOfPages: z.number().optional(),
}).passthrough()

export type RegistryNode = z.infer<typeof registryNodeSchema>
export type RegistryNodeVersion = z.infer<typeof registryNodeVersionSchema>
export type RegistryComfyNode = z.infer<typeof registryComfyNodeSchema>
export type RegistryPage = z.infer<typeof registryPageSchema>
export type RegistryComfyNodesPage = z.infer<typeof registryComfyNodesPageSchema>
