import type { ComfydockError } from '../../sidecar/errors'

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection (p: Promise<unknown>): Promise<ComfydockError> {
  try { await p } catch (err) { return err as ComfydockError }
  throw new Error('expected a rejection')
}
