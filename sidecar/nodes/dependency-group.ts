/**
 * @module A pack's own PEP 735 dependency group, named as the original tool names it
 * (research/original-comfydock.md section 4.4): `<slug(name)>-<sha256(repository or id)[:8]>`.
 */
import { createHash } from 'node:crypto'

export function dependencyGroupName (name: string, repositoryOrId: string): string {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '')
  return `${slug}-${createHash('sha256').update(repositoryOrId).digest('hex').slice(0, 8)}`
}
