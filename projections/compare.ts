// Field-by-field comparison of two projected states: how a rebuild from the store is checked
// against the engine's live state, and later how two runs are compared.
import type { MmState } from './state'

const diffValue = (path: string, a: unknown, b: unknown, out: string[], max: number): void => {
  if (out.length >= max) return
  // Functions are wiring between projections (zone.reporting's hooks), not state.
  if (typeof a === 'function' && typeof b === 'function') return
  if (ArrayBuffer.isView(a) && ArrayBuffer.isView(b)) {
    const x = a as unknown as ArrayLike<number>
    const y = b as unknown as ArrayLike<number>
    if (x.length !== y.length) out.push(`${path}: length ${x.length} != ${y.length}`)
    else for (let i = 0; i < x.length && out.length < max; i++) if (x[i] !== y[i]) out.push(`${path}[${i}]: ${x[i]} != ${y[i]}`)
    return
  }
  if (a instanceof Map && b instanceof Map) {
    const keys = [...new Set<unknown>([...a.keys(), ...b.keys()])].sort((x, y) => (String(x) < String(y) ? -1 : String(x) > String(y) ? 1 : 0))
    for (const k of keys) diffValue(`${path}.get(${String(k)})`, a.get(k), b.get(k), out, max)
    // Iteration order is state too (the page cache is the LRU): compare it.
    const ka = [...a.keys()]
    const kb = [...b.keys()]
    if (out.length < max && ka.some((k, i) => k !== kb[i])) out.push(`${path}: same entries in another order`)
    return
  }
  if (a instanceof Set && b instanceof Set) {
    // A Set's order is state too (the anonymous LRU is oldest first): compare it as a list.
    diffValue(path, [...a], [...b], out, max)
    return
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(`${path}: length ${a.length} != ${b.length}`)
    else for (let i = 0; i < a.length; i++) diffValue(`${path}[${i}]`, a[i], b[i], out, max)
    return
  }
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
    for (const k of keys) diffValue(`${path}.${k}`, (a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], out, max)
    return
  }
  if (!Object.is(a, b)) out.push(`${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`)
}

/** The fields where two states differ (at most `max`); empty when they are equal. */
export const diffStates = (a: MmState, b: MmState, max = 20): string[] => {
  const out: string[] = []
  diffValue('state', a, b, out, max)
  return out
}
