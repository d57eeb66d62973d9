/** @module A tiny element builder for the panel (no framework: the bundle stays one small file). */
type Child = Node | string | null | undefined | false

export function h<K extends keyof HTMLElementTagNameMap> (
  tag: K,
  props: Partial<Record<string, string | boolean | ((e: Event) => void)>> = {},
  ...children: Array<Child | Child[]>
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue
    if (typeof value === 'function') el.addEventListener(key.replace(/^on/, '').toLowerCase(), value)
    else if (value === true) el.setAttribute(key, '')
    else el.setAttribute(key, value)
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue
    el.append(typeof c === 'string' ? document.createTextNode(c) : c)
  }
  return el
}

export function icon (name: string): HTMLElement {
  return h('i', { class: `pi ${name}`, 'aria-hidden': 'true' })
}
