/** @module The shape of a loader-table row: which widget of which node type names a file in which model folder. */
export interface LoaderInput {
  type: string
  /** Input name (API format key). */
  input: string
  /** Position in a UI node's `widgets_values` list. */
  index: number
  /** Model folder the value is relative to (ComfyUI's folder_paths key). */
  folder: string
}
