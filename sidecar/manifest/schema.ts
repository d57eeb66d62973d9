/**
 * @module The one schema of an environment's pyproject.toml: `[project]`, `[dependency-groups]` and all of
 * `[tool.comfydock]` (the original tool's layout, research/original-comfydock.md section 5). It is the
 * boundary for a file that strangers write (bundles, pulls): every name that becomes a folder is one
 * safe path component, every value that reaches git is a commit id, a ref or an allowed URL. Unknown keys
 * pass through untouched, so other tools' keys survive a round-trip. The TypeScript types in types.ts are
 * inferred from here: one definition.
 */
import { z } from 'zod'
import { pathComponentProblem, relativePathProblem } from '../fs'
import { gitUrlKind, isCommitId, refNameProblem } from '../git/validate'

/** The manifest schema this comfydock reads and writes; a newer file is refused with an upgrade hint. */
export const MANIFEST_SCHEMA_VERSION = 1

const refine = (check: (v: string) => string | undefined, what: string) => (v: string, ctx: z.RefinementCtx): void => {
  const why = check(v)
  if (why) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `${JSON.stringify(v)} is not a safe ${what}: ${why}` })
}

// eslint-disable-next-line no-control-regex
const noControl = (v: string): string | undefined => /[\u0000-\u001f\u007f]/.test(v) ? 'contains a control character' : undefined

/** One folder or file name: never "..", "/", "\", a drive or a device. */
export const safeNameSchema = (what: string) => z.string().superRefine(refine(pathComponentProblem, what))
/** A relative path whose every component is a safe name (`checkpoints/sdxl/x.safetensors`). */
export const safeRelativePathSchema = (what: string) => z.string().superRefine(refine(relativePathProblem, what))
const plainString = (what: string) => z.string().superRefine(refine(noControl, what))

const commitIdSchema = z.string().refine(isCommitId, v => ({ message: `${JSON.stringify(v)} is not a commit id (7 to 64 hex digits)` }))
const refNameSchema = z.string().superRefine(refine(refNameProblem, 'git ref'))
const gitUrlSchema = z.string().superRefine(refine(v => { const r = gitUrlKind(v); return 'problem' in r ? r.problem : undefined }, 'git URL'))
const httpUrlSchema = z.string().superRefine(refine(v => /^https?:\/\/[^\s]+$/i.test(v) ? undefined : 'not an http(s) URL', 'URL'))
const hexSchema = (what: string, len: number) => z.string().refine(v => new RegExp(`^[0-9a-f]{${len}}$`, 'i').test(v), { message: `not a ${what} (${len} hex digits)` })
/** A version that may name a file or reach a command: starts with a digit or letter, no spaces, no "/". */
const versionSchema = z.string().regex(/^[0-9A-Za-z][0-9A-Za-z.+_~-]*$/, 'not a version (letters, digits and . + _ ~ -, starting with a letter or digit)')

export const criticalitySchema = z.enum(['required', 'flexible', 'optional'])
export const nodeSourceKindSchema = z.enum(['registry', 'git', 'development'])

export const projectSchema = z.object({
  name: z.string().optional(),
  version: z.string().optional(),
  'requires-python': z.string().optional(),
  dependencies: z.array(z.string()).default([]),
}).passthrough()

export const nodeEntrySchema = z.object({
  /** Folder name under ComfyUI/custom_nodes. */
  name: safeNameSchema('pack folder name'),
  registry_id: plainString('registry id').pipe(z.string().min(1)).optional(),
  repository: gitUrlSchema.optional(),
  /** Registry semver, a git commit, or "dev". */
  version: versionSchema,
  source: nodeSourceKindSchema,
  download_url: httpUrlSchema.optional(),
  /** sha256 of the registry zip, checked on every install from cache or network. */
  sha256: hexSchema('sha256', 64).optional(),
  /** The ref the user asked for (git): branch or tag, so `node update` can follow it. */
  ref: refNameSchema.optional(),
  dependency_sources: z.array(z.string()).optional(),
  /** The node types the pack provides (its NODE_CLASS_MAPPINGS keys), so they resolve without the network. */
  node_classes: z.array(plainString('node class name')).optional(),
}).passthrough().superRefine((e, ctx) => {
  // a commit id (ours), or the tag the original tool 1.0.x recorded for a git pack; never an option
  if (e.source === 'git' && !isCommitId(e.version) && refNameProblem(e.version)) {
    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['version'], message: `a git pack's version must be a commit id (7 to 64 hex digits) or a tag, not ${JSON.stringify(e.version)}` })
  }
})

export const workflowModelNodeRefSchema = z.object({
  node_id: z.string(),
  node_type: z.string(),
  widget_idx: z.number().int(),
  widget_value: z.string(),
}).passthrough()

/** A model category is a folder under models/; "" means none is known. */
const categorySchema = z.union([z.literal(''), safeNameSchema('model category')])

export const workflowModelEntrySchema = z.object({
  /** The file name a workflow names; it may carry the subfolder the widget names (`sd15/x.safetensors`). */
  filename: safeRelativePathSchema('model file name'),
  category: categorySchema,
  criticality: criticalitySchema,
  status: z.enum(['resolved', 'unresolved']),
  nodes: z.array(workflowModelNodeRefSchema).default([]),
  hash: plainString('model hash').optional(),
  sources: z.array(z.string()).optional(),
  relative_path: safeRelativePathSchema('model path').optional(),
}).passthrough()

export const workflowEntrySchema = z.object({
  path: safeRelativePathSchema('workflow path'),
  nodes: z.array(z.string()).default([]),
  custom_node_map: z.record(z.union([z.string(), z.literal(false)])).optional(),
  models: z.array(workflowModelEntrySchema).optional(),
}).passthrough()

export const modelEntrySchema = z.object({
  filename: safeRelativePathSchema('model file name'),
  size: z.number().nonnegative(),
  relative_path: safeRelativePathSchema('model path').optional(),
  category: categorySchema.optional(),
  blake3: hexSchema('BLAKE3 hash', 64).optional(),
  sha256: hexSchema('SHA-256 hash', 64).optional(),
  sources: z.array(z.string()).optional(),
  /** Only `model add` writes one: the environment needs the model itself, not only through a workflow. */
  criticality: criticalitySchema.optional(),
  /** Every download of it had no published hash to check against: the hash is of the bytes that arrived. */
  unverified: z.boolean().optional(),
}).passthrough()

/** A workflow is tracked by its file name: `<name>.json` in the workflow folders, so one safe component. */
const workflowNameSchema = safeNameSchema('workflow name').refine(n => !n.startsWith('.'), { message: 'a workflow name cannot start with "."' })
const nodeIdSchema = plainString('pack id').pipe(z.string().min(1))

export const comfydockTableSchema = z.object({
  schema_version: z.number().int().positive().optional(),
  /** A tag, branch or commit of the ComfyUI source: a ref name either way. */
  comfyui_version: refNameSchema.optional(),
  comfyui_version_type: z.enum(['release', 'branch', 'commit']).optional(),
  comfyui_commit_sha: commitIdSchema.optional(),
  python_version: z.string().regex(/^[0-9][0-9A-Za-z.+]*$/, 'not a Python version such as "3.11"').optional(),
  nodes: z.record(nodeIdSchema, nodeEntrySchema).optional(),
  workflows: z.record(workflowNameSchema, workflowEntrySchema).optional(),
  models: z.record(plainString('model hash'), modelEntrySchema).optional(),
}).passthrough()

export const pyprojectSchema = z.object({
  project: projectSchema.default({}),
  'dependency-groups': z.record(z.array(z.string())).optional(),
  tool: z.object({
    comfydock: comfydockTableSchema.default({}),
    uv: z.record(z.unknown()).optional(),
  }).passthrough().default({}),
}).passthrough()
