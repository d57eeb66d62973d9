export { createEnvironment, type CreateEnvironmentOptions, type CreateEnvironmentResult } from './create'
export { deleteEnvironment, removeEnvironmentDir, type DeleteResult } from './remove'
export { listEnvironments, useEnvironment, type EnvironmentSummary } from './select'
export { CEC_GITIGNORE } from './scaffold'
