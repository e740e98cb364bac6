// The simulator's event queue: a binary heap ordered by (time, priority, insertion seq), as
// SimPy orders its queue. Two entries never compare equal, so the order is total (STYLE.md §6).

export interface QueueEntry<A> {
  readonly timeNs: number
  readonly priority: number
  readonly seq: number
  readonly actor: A
}

const before = <A>(a: QueueEntry<A>, b: QueueEntry<A>): boolean =>
  a.timeNs !== b.timeNs ? a.timeNs < b.timeNs : a.priority !== b.priority ? a.priority < b.priority : a.seq < b.seq

export class EventQueue<A> {
  private readonly heap: QueueEntry<A>[] = []
  private nextSeq = 0

  get size(): number {
    return this.heap.length
  }

  push(timeNs: number, priority: number, actor: A): QueueEntry<A> {
    const entry: QueueEntry<A> = { timeNs, priority, seq: this.nextSeq++, actor }
    const h = this.heap
    let i = h.length
    h.push(entry)
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!before(entry, h[parent]!)) break
      h[i] = h[parent]!
      i = parent
    }
    h[i] = entry
    return entry
  }

  pop(): QueueEntry<A> | undefined {
    const h = this.heap
    const top = h[0]
    if (top === undefined) return undefined
    const last = h.pop()!
    if (h.length > 0) {
      let i = 0
      const n = h.length
      while (true) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        const c = r < n && before(h[r]!, h[l]!) ? r : l
        if (!before(h[c]!, last)) break
        h[i] = h[c]!
        i = c
      }
      h[i] = last
    }
    return top
  }

  peek(): QueueEntry<A> | undefined {
    return this.heap[0]
  }
}
