/** @module Refuses to start a write that cannot fit, instead of failing with ENOSPC halfway. */
import { statfs } from 'node:fs/promises'
import { ComfydockError } from '../errors'

export async function freeBytes (dir: string): Promise<number> {
  const s = await statfs(dir)
  return Number(s.bavail) * Number(s.bsize)
}

export async function ensureFreeSpace (dir: string, needed: number, what: string): Promise<void> {
  if (needed <= 0) return
  const free = await freeBytes(dir)
  if (free < needed) {
    throw new ComfydockError('DISK_SPACE', `${what} needs ${needed} bytes but ${dir} has only ${free} free`, {
      hint: 'Free some space, or point the models directory elsewhere: `comfydock config models_dir <dir>`.',
    })
  }
}
