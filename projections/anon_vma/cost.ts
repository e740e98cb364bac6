// What an rmap walk of every mapped anonymous page would cost now, computed from the structure
// instead of walked: a walk of a page visits the VMAs of its anon_vma's interval tree whose range
// covers the page's index (anon_vma_interval_tree_foreach(avc, &anon_vma->rb_root, pgoff, pgoff)).
// Pages of one anon_vma share one tree, so each anon_vma's pages are counted against its VMAs'
// ranges once: a million pages cost a million binary searches, not the 10^9 visits of walking
// them all under legacy linking.
import type { AnonVmaState } from './state'

export interface AnonVmaCost {
  readonly anonVma: number
  /** Mapped pages whose page->mapping names it. */
  readonly pages: number
  /** VMAs a walk visits, summed over those pages, and the fewest and most for one page. */
  readonly visited: number
  readonly min: number
  readonly max: number
}

export interface RmapCost {
  readonly pages: number
  readonly visited: number
  /** Mean VMAs visited per walk over every mapped anonymous page, and the most for one. */
  readonly average: number
  readonly max: number
  readonly perAnonVma: readonly AnonVmaCost[]
}

/** Lower bound: the first position of `xs` (ascending) whose value is > x when `strict`, >= x otherwise. */
const bound = (xs: Float64Array, x: number, strict: boolean): number => {
  let lo = 0
  let hi = xs.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (strict ? xs[mid]! <= x : xs[mid]! < x) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** Mapped anonymous pages by the anon_vma page->mapping names, anon_vmas in id order, pages in pfn order. */
export const pagesByAnonVma = (s: AnonVmaState): Map<number, number[]> => {
  const pagesOf = new Map<number, number[]>()
  for (let pfn = 0; pfn < s.pfnEnd; pfn++) {
    if (s.mapcount[pfn] === 0) continue
    const id = s.mapping[pfn]!
    const list = pagesOf.get(id)
    if (list === undefined) pagesOf.set(id, [pfn])
    else list.push(pfn)
  }
  return new Map([...pagesOf.entries()].sort((x, y) => x[0] - y[0]))
}

export const rmapCost = (s: AnonVmaState): RmapCost => {
  const pagesOf = pagesByAnonVma(s)
  const perAnonVma: AnonVmaCost[] = []
  let pages = 0
  let visited = 0
  let max = 0
  for (const id of pagesOf.keys()) {
    const av = s.anonVmas.get(id)
    const vmas = (av?.vmas ?? []).map((v) => s.vmas.get(v)!)
    // Each VMA covers page indices [pgoff, pgoff + pages); a page is covered by the VMAs whose
    // first index is <= its own, minus those whose end is <= its own.
    const starts = Float64Array.from(vmas.map((v) => v.pgoff)).sort()
    const ends = Float64Array.from(vmas.map((v) => v.pgoff + (v.end - v.start))).sort()
    let sum = 0
    let lo = Infinity
    let hi = 0
    for (const pfn of pagesOf.get(id)!) {
      const index = s.index[pfn]!
      const n = bound(starts, index, true) - bound(ends, index, true)
      sum += n
      lo = Math.min(lo, n)
      hi = Math.max(hi, n)
    }
    const count = pagesOf.get(id)!.length
    perAnonVma.push({ anonVma: id, pages: count, visited: sum, min: lo, max: hi })
    pages += count
    visited += sum
    max = Math.max(max, hi)
  }
  return { pages, visited, average: pages === 0 ? 0 : visited / pages, max, perAnonVma }
}

/** The VMAs a walk of one page visits now: those of its anon_vma's tree whose range covers it. */
export const pageCost = (s: AnonVmaState, pfn: number): number => {
  const av = s.anonVmas.get(s.mapping[pfn]!)
  if (av === undefined) return 0
  const index = s.index[pfn]!
  let n = 0
  for (const id of av.vmas) {
    const v = s.vmas.get(id)!
    if (index >= v.pgoff && index < v.pgoff + (v.end - v.start)) n++
  }
  return n
}
