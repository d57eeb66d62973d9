export * from './archive-store'
export * from './git-store'
