export { mergeCec, type Choice, type Conflict, type ConflictSide, type MergeOutcome, type Resolver } from './merge-cec'
export { describeChanges, type Change, type ChangeSet } from './preview'
export { MANIFEST_FILE, workflowFile, type CecSnapshot } from './snapshot'
