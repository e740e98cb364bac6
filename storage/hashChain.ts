// The two hash chains over a run's events. Per event: a 53-bit hash of the row, seeded with the
// previous event's, stored in `h` (cheap; it locates the first altered or diverging row). Per
// block of BLOCK_EVENTS events: SHA-256 of the previous block's hash and the block's rows (strong;
// its head is the run's integrity hash).
import { createHash } from 'node:crypto'

/** The canonical text of a row: what both chains hash. */
export const rowText = (seq: number, t: number, cpu: number | null, type: string, cause: number | null, data: string): string =>
  `${seq}\u001f${t}\u001f${cpu ?? ''}\u001f${type}\u001f${cause ?? ''}\u001f${data}`

/**
 * cyrb53-style hash of a row, seeded with the previous row's hash; fits a SQLite INTEGER exactly.
 * It hashes the fields in turn, as if they were joined as in rowText, without building the string.
 */
export const chainHash = (prev: number, seq: number, t: number, cpu: number | null, type: string, cause: number | null, data: string): number => {
  let h1 = 0xdeadbeef ^ (prev >>> 0)
  let h2 = 0x41c6ce57 ^ Math.floor(prev / 4294967296)
  const mix = (text: string, sep: boolean) => {
    for (let i = 0; i < text.length; i++) {
      const ch = text.charCodeAt(i)
      h1 = Math.imul(h1 ^ ch, 2654435761)
      h2 = Math.imul(h2 ^ ch, 1597334677)
    }
    if (sep) {
      h1 = Math.imul(h1 ^ 0x1f, 2654435761)
      h2 = Math.imul(h2 ^ 0x1f, 1597334677)
    }
  }
  mix(String(seq), true)
  mix(String(t), true)
  mix(cpu === null ? '' : String(cpu), true)
  mix(type, true)
  mix(cause === null ? '' : String(cause), true)
  mix(data, false)
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909)
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909)
  return 4294967296 * (2097151 & h2) + (h1 >>> 0)
}

export const GENESIS_HASH = ''

export const blockHash = (prevHex: string, rows: readonly string[]): string => {
  return createHash('sha256').update(prevHex).update('\n').update(rows.join('\n')).digest('hex')
}
