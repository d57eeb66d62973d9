/**
 * @module Heavy third-party packages (native addons, big CommonJS trees) loaded on first use rather than
 * at startup, so a command that never opens a database or an archive never pays for loading one.
 */
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

/** A getter that `require`s `name` the first time it is called. */
export function lazyRequire<T> (name: string): () => T {
  let loaded: T | undefined
  return () => (loaded ??= require(name) as T)
}
