import { readFileSync } from 'node:fs'

/**
 * Reads a small local file (a manifest, the workspace file, a workflow) on the calling thread. An async
 * read is four trips through libuv's thread pool (open, stat, read, close), each waiting for a free CPU
 * twice; on the busy 2-core machine the panel's commit spent most of its time in such waits (issue 12).
 */
export function readSmallFile (file: string): Buffer
export function readSmallFile (file: string, encoding: 'utf8'): string
export function readSmallFile (file: string, encoding?: 'utf8'): Buffer | string {
  return encoding ? readFileSync(file, encoding) : readFileSync(file)
}
