export * from './pinned'
export * from './resolve-spec'
export * from './materialize'
