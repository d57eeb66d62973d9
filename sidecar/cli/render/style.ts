/** @module Terminal colours, off for NO_COLOR, --json and non-TTY output. */
const enabled = (stream: NodeJS.WriteStream): boolean => !process.env.NO_COLOR && Boolean(stream.isTTY) && process.env.TERM !== 'dumb'

const wrap = (open: number, close: number) => (text: string, stream: NodeJS.WriteStream = process.stdout): string =>
  enabled(stream) ? `\u001b[${open}m${text}\u001b[${close}m` : text

export const style = {
  bold: wrap(1, 22),
  dim: wrap(2, 22),
  red: wrap(31, 39),
  green: wrap(32, 39),
  yellow: wrap(33, 39),
  cyan: wrap(36, 39),
}

export function formatBytes (n: number): string {
  if (!Number.isFinite(n)) return '?'
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${i === 0 ? v : v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`
}
