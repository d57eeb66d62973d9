/** @module Custom node packs: resolution of node types to packs, registry/git/dev sources, install state. */
export * from './resolver'
export { openRegistry, createRegistryClient, type RegistryClient } from './registry'
export { scanCustomNodes } from './scan-custom-nodes'
export * from './operations'
export { parseNodeSpec, type NodeSpec } from './spec'
export { dependencyGroupName } from './dependency-group'
export { packGroupName } from './pack-manifest'
export { packClasses, recordObjectInfoClasses, scanPackClasses } from './node-classes'
