// Intrusive doubly linked lists over the frame arrays, as page->lru links pages into free_area
// and per-cpu lists. Head insertion is list_add, tail insertion list_add_tail.
import { NIL, type ZoneState } from './state'

const listAdd = (s: ZoneState, head: Int32Array, tail: Int32Array, len: Int32Array, i: number, pfn: number, atTail: boolean): void => {
  if (head[i] === NIL) {
    s.next[pfn] = NIL
    s.prev[pfn] = NIL
    head[i] = pfn
    tail[i] = pfn
  } else if (atTail) {
    const t = tail[i]!
    s.next[t] = pfn
    s.prev[pfn] = t
    s.next[pfn] = NIL
    tail[i] = pfn
  } else {
    const h = head[i]!
    s.prev[h] = pfn
    s.next[pfn] = h
    s.prev[pfn] = NIL
    head[i] = pfn
  }
  len[i]!++
}

const listDel = (s: ZoneState, head: Int32Array, tail: Int32Array, len: Int32Array, i: number, pfn: number): void => {
  const p = s.prev[pfn]!
  const n = s.next[pfn]!
  if (p === NIL) head[i] = n
  else s.next[p] = n
  if (n === NIL) tail[i] = p
  else s.prev[n] = p
  s.next[pfn] = NIL
  s.prev[pfn] = NIL
  len[i]!--
}

export const freeListAdd = (s: ZoneState, i: number, pfn: number, atTail: boolean): void => listAdd(s, s.freeHead, s.freeTail, s.freeLen, i, pfn, atTail)
export const freeListDel = (s: ZoneState, i: number, pfn: number): void => listDel(s, s.freeHead, s.freeTail, s.freeLen, i, pfn)
export const pcpListAdd = (s: ZoneState, i: number, pfn: number, atTail: boolean): void => listAdd(s, s.pcpHead, s.pcpTail, s.pcpLen, i, pfn, atTail)
export const pcpListDel = (s: ZoneState, i: number, pfn: number): void => listDel(s, s.pcpHead, s.pcpTail, s.pcpLen, i, pfn)

/** list_add_tail(new, &anchor->lru): `pfn` goes just in front of `anchor` (aerator_get_tail's boundary). */
export const freeListInsertBefore = (s: ZoneState, i: number, anchor: number, pfn: number): void => {
  const p = s.prev[anchor]!
  s.prev[pfn] = p
  s.next[pfn] = anchor
  s.prev[anchor] = pfn
  if (p === NIL) s.freeHead[i] = pfn
  else s.next[p] = pfn
  s.freeLen[i]!++
}

/** list_rotate_to_front(&page->lru, list): `pfn` becomes the head; the blocks before it move, in order, to the tail. */
export const freeListRotateToFront = (s: ZoneState, i: number, pfn: number): void => {
  const head = s.freeHead[i]!
  if (head === pfn) return
  const before = s.prev[pfn]!
  const tail = s.freeTail[i]!
  s.next[tail] = head
  s.prev[head] = tail
  s.next[before] = NIL
  s.prev[pfn] = NIL
  s.freeHead[i] = pfn
  s.freeTail[i] = before
}

/** The pfns of one list from head to tail (renderers, invariants and tests). */
export const listPfns = (s: ZoneState, head: Int32Array, i: number, limit = Number.MAX_SAFE_INTEGER): number[] => {
  const out: number[] = []
  for (let p = head[i]!; p !== NIL && out.length < limit; p = s.next[p]!) out.push(p)
  return out
}
