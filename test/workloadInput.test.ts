// Any workload file, however malformed, gets exit 2 and a short message that a person can read:
// never a stack overflow, never the file's raw bytes, never 200 000 lines; and a workload whose
// simulated times could pass 2^53 ns is refused at validation, naming the JSON path.
import * as fs from 'node:fs'
import * as path from 'node:path'
import * as E from 'fp-ts/Either'
import type * as t from 'io-ts'
import { describe, expect, it } from 'vitest'
import { formatErrors } from '../events'
import { Workload } from '../workload/codec'
import { cli, tmpDir } from './helpers'

const HEAD = '"version":1,"name":"t","machine":{"cpus":2,"zones":[{"name":"Normal","pages":4096}],"guestPageHinting":true}'

/** Runs `mmsim run` on a workload given as JSON text. */
const runText = async (text: string) => {
  const dir = tmpDir()
  const file = path.join(dir, 'w.json')
  fs.writeFileSync(file, text)
  return cli('run', '--db', path.join(dir, 'x.db'), '--workload', file, '--no-progress')
}
const runWorkload = (fields: string, ops: string) => runText(`{${HEAD}${fields},"ops":[${ops}]}`)

const lines = (s: string) => s.split('\n').filter((l) => l.length > 0)

describe('deeply nested workloads exit 2 with a message', () => {
  it('a value 5000 levels deep', async () => {
    const r = await runWorkload('', `{"op":"alloc","cpu":0,"tag":${'['.repeat(5000)}${']'.repeat(5000)}}`)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/w\.json: \$\.ops\[0\]\.tag\[0\].*: nested more than 64 levels deep/)
    expect(lines(r.err)).toHaveLength(1)
  })

  it('a repeat nested 2000 deep', async () => {
    const r = await runWorkload('', `${'{"op":"repeat","times":1,"ops":['.repeat(2000)}{"op":"alloc","cpu":0}${']}'.repeat(2000)}`)
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/\$\.ops\[0\]\.ops\[0\].*: nested more than 64 levels deep/)
  })

  it('a JSON document 200 000 levels deep', async () => {
    const r = await runText(`${'['.repeat(200_000)}${']'.repeat(200_000)}`)
    expect(r.code).toBe(2)
    expect(r.err).toContain('nested more than 64 levels deep')
  })

  it('the Workload codec itself refuses them, for programs that decode without the loader', () => {
    const deep = JSON.parse(`{${HEAD},"ops":[${'{"op":"repeat","times":1,"ops":['.repeat(2000)}{"op":"alloc","cpu":0}${']}'.repeat(2000)}]}`) as unknown
    const r = Workload.decode(deep)
    expect(E.isLeft(r)).toBe(true)
    expect(formatErrors((r as E.Left<t.Errors>).left)).toMatch(/^\$: nested more than 64 levels deep at \$\.ops\[0\]\.ops\[0\]/)
  })

  it('a repeat nested 20 deep is still a workload', async () => {
    const r = await runWorkload('', `${'{"op":"repeat","times":1,"ops":['.repeat(20)}{"op":"alloc","cpu":0}${']}'.repeat(20)}`)
    expect(r.err).toBe('')
    expect(r.code).toBe(0)
  })
})

describe('error messages', () => {
  it('are capped: 5000 bad ops print 20 lines and a count', async () => {
    const r = await runWorkload('', Array.from({ length: 5000 }, () => '{"op":"alloc","cpu":9}').join(','))
    expect(r.code).toBe(2)
    const ls = lines(r.err)
    expect(ls).toHaveLength(21)
    expect(ls[0]).toContain('$.ops[0].cpu')
    expect(ls[20]).toMatch(/^\.\.\. and \d+ more$/)
  })

  it('never echo raw input: NUL and escape bytes in a file or a value are escaped', async () => {
    const junk = await runText('ab\u0000\u001b[31mcd {"x":1}')
    expect(junk.code).toBe(2)
    expect(junk.err).toContain('not JSON')
    const inValue = await runText(`{${HEAD.replace('"cpus":2', '"cpus":"a\\u0000\\u001bb"')},"ops":[]}`)
    expect(inValue.code).toBe(2)
    expect(inValue.err).toContain('$.machine.cpus')
    for (const r of [junk, inValue]) {
      expect(r.err).not.toContain('\u0000')
      expect(r.err).not.toContain('\u001b')
    }
    const badJson = await runText('{"a":\n  "x\u0000"}')
    expect(badJson.err).toMatch(/not JSON: .* at line 2 column \d+/)
    expect(badJson.err).not.toContain('\u0000')
  })

  it('1e309 is "not a finite number", not "null"', async () => {
    const r = await runText(`{${HEAD.replace('"cpus":2', '"cpus":1e309')},"ops":[]}`)
    expect(r.code).toBe(2)
    expect(r.err).toContain('$.machine.cpus: expected an integer 1..64, got Infinity (not a finite number)')
    expect(r.err).not.toContain('got null')
  })

  it('--seed -1 says what a seed may be', async () => {
    const r = await cli('run', '--db', path.join(tmpDir(), 'x.db'), '--seed', '-1', '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toContain('--seed: expected a seed: a whole number 0..9007199254740991')
    expect(r.err).toContain('"-1"')
  })

  it('a control character in an argument is escaped', async () => {
    const r = await cli('run', '--db', path.join(tmpDir(), 'x.db'), '--seed', 'a\u0000b', '--no-progress')
    expect(r.code).toBe(2)
    expect(r.err).toContain('"a\\u0000b"')
    expect(r.err).not.toContain('\u0000')
  })
})

describe('simulated time is bounded at validation', () => {
  const NEAR_2_53 = 9007199254740000

  it('an idle near 2^53 ns is refused, naming the op', async () => {
    const r = await runWorkload('', `{"op":"idle","cpu":0,"ns":${NEAR_2_53}}`)
    expect(r.code).toBe(2)
    expect(r.err).toContain('$.ops[0].ns: expected a time in ns 1..2^50')
  })

  it('thinkNs and ioNs near 2^53 are refused', async () => {
    const think = await runWorkload(`,"settings":{"thinkNs":${NEAR_2_53}}`, '{"op":"alloc","cpu":0}')
    expect(think.code).toBe(2)
    expect(think.err).toContain('$.settings.thinkNs')
    const io = await runWorkload(`,"settings":{"ioNs":${Number.MAX_SAFE_INTEGER}}`, '{"op":"read","cpu":0,"file":1}')
    expect(io.code).toBe(2)
    expect(io.err).toContain('$.settings.ioNs')
  })

  it('a host intervalNs at its old maximum is refused (it made the timers go back in time)', async () => {
    const r = await runWorkload(`,"host":{"intervalNs":${Number.MAX_SAFE_INTEGER}}`, '')
    expect(r.code).toBe(2)
    expect(r.err).toContain('$.host.intervalNs: expected a time in ns 1..2^30')
  })

  it('small times that add up past 2^50 through a repeat are refused at the op that passes', async () => {
    const r = await runWorkload('', '{"op":"alloc","cpu":1},{"op":"repeat","times":1000000,"ops":[{"op":"idle","cpu":0,"ns":1000000000000}]}')
    expect(r.code).toBe(2)
    expect(r.err).toContain('$.ops[1].ops[0]: simulated time:')
  })

  it('a run at the bound is stored, readable and verifiable', async () => {
    const dir = tmpDir()
    const file = path.join(dir, 'w.json')
    const db = path.join(dir, 'x.db')
    const half = 2 ** 49
    fs.writeFileSync(
      file,
      `{${HEAD},"settings":{"ioNs":${half}},"host":{"intervalNs":${2 ** 30},"activeFromNs":${2 ** 50}},"ops":[{"op":"idle","cpu":0,"ns":${half}},{"op":"read","cpu":1,"file":1},{"op":"alloc","cpu":0}]}`,
    )
    const run = await cli('run', '--db', db, '--workload', file, '--no-progress', '--json')
    expect(run.err).toBe('')
    expect(run.code).toBe(0)
    expect((JSON.parse(run.out) as { simulatedNs: number }).simulatedNs).toBeGreaterThanOrEqual(half)
    expect((await cli('events', '--db', db)).code).toBe(0)
    expect((await cli('state', 'zone', '--db', db)).code).toBe(0)
    expect((await cli('check', '--db', db)).code).toBe(0)
  })
})
