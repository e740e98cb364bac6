// The source patches that remove a protection (mutate/protections.ts) must keep applying as the
// engine changes: a patch whose text is gone would make a race test or `npm run mutate` report
// nothing about that protection. Each one applies to this tree exactly once, here, cheaply.
import * as fs from 'node:fs'
import { describe, expect, it } from 'vitest'
import { PatchDoesNotApply, applyEdit } from '../mutate/patched'
import { PROTECTIONS } from '../mutate/protections'

describe('protection removals (mutate/protections.ts)', () => {
  for (const p of PROTECTIONS)
    it(`${p.id}: every edit applies once to this tree, to a workload that exists`, () => {
      expect(fs.existsSync(p.workload)).toBe(true)
      for (const e of p.edits) {
        const text = fs.readFileSync(e.file, 'utf8')
        expect(applyEdit(text, e)).not.toBe(text)
      }
    })

  it('an edit whose text is gone, or occurs twice, does not apply (and says which file)', () => {
    const e = { file: 'x.ts', find: 'a()', replace: 'b()' }
    expect(() => applyEdit('c()', e)).toThrow(PatchDoesNotApply)
    expect(() => applyEdit('a(); a()', e)).toThrow(/x\.ts: .*more than once/)
    expect(applyEdit('a(); c()', e)).toBe('b(); c()')
  })
})
