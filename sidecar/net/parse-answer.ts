/** @module A server's JSON answer checked against its schema before anything reads it (registry, CivitAI, node mappings). */
import type { z } from 'zod'
import { ComfydockError, redactSecrets } from '../errors'

/** The parsed answer; a wrong shape is a clear error naming the server, the URL and the field, never a crash further on. */
export function parseAnswer<T> (schema: z.ZodType<T, z.ZodTypeDef, unknown>, data: unknown, service: string, url: string, hint?: string): T {
  const parsed = schema.safeParse(data)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  throw new ComfydockError('SERVER_ANSWER_INVALID', `${service} sent an answer comfydock cannot use (${redactSecrets(url)}): ${issue.path.join('.') || '(root)'}: ${issue.message}`, {
    hint: hint ?? 'Check the configured URL (`comfydock config --show`); if it is right, the server is misbehaving: try again later.',
  })
}
