/** @module Frontend version numbers (`1.27.0`, `1.44.19`), compared numerically part by part. */
export function compareVersions (a: string, b: string): number {
  const pa = a.split(/[.-]/).map(n => Number.parseInt(n, 10) || 0)
  const pb = b.split(/[.-]/).map(n => Number.parseInt(n, 10) || 0)
  for (let i = 0; i < 3; i++) {
    if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0)
  }
  return 0
}

/**
 * The core menu that holds Open/Save/Export in that frontend: "Workflow" became "File" in 1.26.3, and the
 * change was back-ported to 1.25.8 (each release's CORE_MENU_COMMANDS, read in the published packages).
 */
export function fileMenuOf (version: string | null): 'File' | 'Workflow' {
  if (version === null) return 'Workflow'
  const onFile = compareVersions(version, '1.26.3') >= 0 ||
    (compareVersions(version, '1.25.8') >= 0 && compareVersions(version, '1.26.0') < 0)
  return onFile ? 'File' : 'Workflow'
}
