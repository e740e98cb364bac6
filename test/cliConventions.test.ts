// The conventions a kernel developer expects of a command-line tool: --help for every command with
// its options and an example, --version, "did you mean", a closed pipe that ends quietly, no
// silent answers (a question about something the run does not have is exit 2), event text in
// the kernel's words, logs with the run id that never land inside the progress bar.
import { spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import * as path from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ENGINE_VERSION } from '../engine/config'
import type { MmEvent } from '../events'
import { main } from '../cli/main'
import type { Io } from '../cli/io'
import { MMSIM_JS, ROOT, ensureBuilt } from './built'
import { cli, tmpDir, workload } from './helpers'

const lines = (s: string): string[] => s.split('\n').filter((l) => l.length > 0)

/** Every command and the options its --help must list. */
const COMMANDS: Record<string, readonly string[]> = {
  run: [
    '--workload',
    '--seed',
    '--variant',
    '--db',
    '--steps-max',
    '--check-every',
    '--stop-on-violation',
    '--snapshot-every',
    '--schedule',
    '--json',
    '--no-progress',
    '--log-level',
  ],
  runs: ['--db', '--json', '--log-level'],
  events: ['--db', '--run', '--from', '--to', '--type', '--pfn', '--limit', '--json', '--log-level'],
  'state zone': ['--db', '--run', '--at', '--at-time', '--format', '--json', '--log-level'],
  'state pages': ['--db', '--run', '--at', '--at-time', '--pfn', '--count', '--json', '--log-level'],
  'state cpus': ['--db', '--run', '--at', '--at-time', '--json', '--log-level'],
  'state anon-vma': ['--db', '--run', '--at', '--at-time', '--mm', '--pfn', '--json', '--log-level'],
  'state boundary': ['--db', '--run', '--at', '--at-time', '--json', '--log-level'],
  'experiment anon-vma-scaling': ['--children', '--pages', '--sample', '--seed', '--db', '--json', '--log-level'],
  'experiment reporting-idle': ['--gib', '--seed', '--db', '--json', '--log-level'],
  page: ['--db', '--run', '--pfn', '--from', '--to', '--json', '--log-level'],
  check: ['--db', '--run', '--at', '--json', '--log-level'],
  bisect: ['--db', '--run', '--invariant', '--every-event', '--json', '--log-level'],
  snapshot: ['--db', '--run', '--every', '--json', '--log-level'],
  replay: ['--db', '--run', '--force', '--seed', '--variant', '--json', '--no-progress', '--log-level'],
  fork: ['--db', '--run', '--at', '--seed', '--variant', '--force', '--json', '--no-progress', '--log-level'],
  diff: ['--db', '--run', '--json', '--log-level'],
  explore: [
    '--workload',
    '--variant',
    '--seeds',
    '--from-seed',
    '--strategy',
    '--depth',
    '--workers',
    '--all',
    '--db',
    '--shard',
    '--keep',
    '--json',
    '--no-progress',
    '--log-level',
  ],
  merge: ['--json', '--log-level'],
  shrink: ['--db', '--run', '--out', '--invariant', '--tests-max', '--json', '--log-level'],
  inevitable: ['--db', '--run', '--points', '--forks', '--invariant', '--json', '--log-level'],
  report: ['--db', '--run', '--format', '--out', '--json', '--log-level'],
  export: ['--db', '--run', '--format', '--what', '--every', '--out', '--json', '--log-level'],
  'import ftrace': ['--out', '--name', '--json', '--log-level'],
  'import buddyinfo': ['--pagetypeinfo', '--cpus', '--out', '--name', '--json', '--log-level'],
  completion: ['--log-level'],
}

describe('help and version', () => {
  for (const [command, options] of Object.entries(COMMANDS))
    it(`mmsim ${command} --help says what it does, lists every option and shows an example`, async () => {
      const r = await cli(...command.split(' '), '--help')
      expect(r.code).toBe(0)
      expect(r.err).toBe('')
      expect(r.out).toContain(`Usage: mmsim ${command} [options]`) // `mmsim page [options] [pfn]` too
      for (const o of options) expect(r.out).toContain(o)
      expect(r.out).toMatch(new RegExp(`Examples:\\n  mmsim ${command}`))
    })

  it('mmsim --help lists the commands and the exit codes; mmsim help state shows the views', async () => {
    const r = await cli('--help')
    expect(r.code).toBe(0)
    for (const c of [
      'run',
      'runs',
      'events',
      'state',
      'page',
      'check',
      'replay',
      'fork',
      'diff',
      'snapshot',
      'experiment',
      'bisect',
      'explore',
      'merge',
      'shrink',
      'inevitable',
      'report',
      'export',
      'import',
    ])
      expect(r.out).toMatch(new RegExp(`^  ${c}\\b`, 'm'))
    expect(r.out).toContain('Exit codes: 0 ok')
    const s = await cli('help', 'state')
    expect(s.code).toBe(0)
    for (const v of ['zone', 'pages', 'cpus', 'anon-vma', 'boundary']) expect(s.out).toMatch(new RegExp(`^  ${v}\\b`, 'm'))
  })

  it('mmsim --version prints the engine version', async () => {
    for (const flag of ['--version', '-V']) {
      const r = await cli(flag)
      expect(r.code).toBe(0)
      expect(r.out).toBe(`${ENGINE_VERSION}\n`)
    }
  })

  it('a mistyped command or option gets a "did you mean", exit 2', async () => {
    const c = await cli('evnts')
    expect(c.code).toBe(2)
    expect(c.err).toContain("unknown command 'evnts'")
    expect(c.err).toContain('Did you mean events?')
    const o = await cli('events', '--frm', '1')
    expect(o.code).toBe(2)
    expect(o.err).toContain("unknown option '--frm'")
    expect(o.err).toContain('Did you mean --from?')
    const t = await cli('events', '--type', 'PcpDrainde')
    expect(t.code).toBe(2)
    expect(t.err).toContain('unknown event type "PcpDrainde" (did you mean PcpDrained?)')
    const v = await cli('state', 'zon')
    expect(v.code).toBe(2)
    expect(v.err).toContain('Did you mean zone?')
  })
})

describe('shell completion', () => {
  it('mmsim completion prints a bash script that completes commands, views and options', async () => {
    const r = await cli('completion')
    expect(r.code).toBe(0)
    const dir = tmpDir()
    fs.writeFileSync(path.join(dir, 'c.sh'), r.out)
    const complete = (...words: string[]) =>
      spawnSync('bash', ['-c', `source c.sh; COMP_WORDS=(${words.join(' ')}); COMP_CWORD=${words.length - 1}; _mmsim; echo "\${COMPREPLY[@]}"`], {
        cwd: dir,
        encoding: 'utf8',
      }).stdout.trim()
    expect(complete('mmsim', 'ev')).toBe('events')
    expect(complete('mmsim', 'state', 'pa')).toBe('pages')
    expect(complete('mmsim', 'events', '--f')).toBe('--from')
    expect(complete('mmsim', 'state', 'pages', '--db', 'x.db', '--c')).toBe('--count')
  })
})

describe('a stored run', () => {
  let dir: string
  let db: string
  let events: MmEvent[]
  let head: number

  beforeAll(async () => {
    dir = tmpDir()
    db = path.join(dir, 'x.db')
    const w = workload(
      [
        { op: 'alloc', cpu: 0, order: 2, tag: 'a' },
        { op: 'churn', cpu: 0, steps: 3000, liveMax: 64 },
        { op: 'churn', cpu: 1, steps: 3000, liveMax: 64 },
        { op: 'free', cpu: 1, tag: 'a' },
      ],
      {
        zones: [
          { name: 'DMA32', pages: 2048 },
          { name: 'Normal', pages: 4096 },
        ],
      },
    )
    fs.writeFileSync(path.join(dir, 'w.json'), JSON.stringify(w))
    const r = await cli('run', '--db', db, '--workload', path.join(dir, 'w.json'), '--no-progress', '--json')
    expect(r.code).toBe(0)
    head = (JSON.parse(r.out) as { events: number }).events
    events = lines((await cli('events', '--db', db, '--json')).out).map((l) => JSON.parse(l) as MmEvent)
    expect(events).toHaveLength(head)
  })

  describe('no silent answers', () => {
    it('--at past the end of the run exits 2 for state and check, naming the last seq', async () => {
      for (const argv of [['state', 'zone'], ['state', 'pages'], ['state', 'cpus'], ['check']]) {
        const r = await cli(...argv, '--db', db, '--at', String(head + 1))
        expect(r.code, argv.join(' ')).toBe(2)
        expect(r.err).toContain(`--at ${head + 1} is past the end of run 1, which has events seq 1..${head}`)
        expect(r.out).toBe('')
      }
      expect((await cli('check', '--db', db, '--at', String(head))).code).toBe(0)
    })

    it('bisect: an invariant that holds exits 0 (text and --json); an unknown one exits 2 and lists the known', async () => {
      const ok = await cli('bisect', '--db', db, '--invariant', 'buddy.nr-free')
      expect(ok.code).toBe(0)
      expect(ok.out).toContain('buddy.nr-free holds')
      const j = await cli('bisect', '--db', db, '--invariant', 'buddy.nr-free', '--json')
      expect(j.code).toBe(0)
      expect(JSON.parse(j.out)).toMatchObject({ _tag: 'Holds', invariant: 'buddy.nr-free', headSeq: head })
      const none = await cli('bisect', '--db', db)
      expect(none.code).toBe(0)
      expect(none.out).toContain('recorded no finding')
      const bad = await cli('bisect', '--db', db, '--invariant', 'buddy.no-such')
      expect(bad.code).toBe(2)
      expect(bad.err).toContain('buddy.nr-free')
    })

    it('--from greater than --to exits 2; --from past the end exits 2', async () => {
      const r = await cli('events', '--db', db, '--from', '20', '--to', '10')
      expect(r.code).toBe(2)
      expect(r.err).toContain('--from 20 is after --to 10')
      const past = await cli('events', '--db', db, '--from', String(head + 1))
      expect(past.code).toBe(2)
      expect(past.err).toContain('past the end of run 1')
    })

    it('a --pfn outside the machine exits 2 and names the zones', async () => {
      for (const argv of [
        ['events', '--pfn', '6144'],
        ['events', '--pfn', '0x1800'],
        ['state', 'pages', '--pfn', '100000'],
      ]) {
        const r = await cli(...argv, '--db', db)
        expect(r.code, argv.join(' ')).toBe(2)
        expect(r.err).toContain('is outside the machine of run 1 (DMA32 0x0..0x7ff, Normal 0x800..0x17ff)')
      }
      const last = await cli('events', '--db', db, '--pfn', '0x17ff', '--json')
      expect(last.code).toBe(0)
      expect(lines(last.out).length).toBeGreaterThan(0)
    })

    it('the options of a state view may come before the view', async () => {
      const after = await cli('state', 'zone', '--db', db, '--at', '5', '--json')
      const before = await cli('state', '--db', db, '--at', '5', '--json', 'zone')
      expect(before.code).toBe(0)
      expect(before.out).toBe(after.out)
      expect((await cli('state', '--at', '5', 'zonee', '--db', db)).code).toBe(2)
    })

    it('a pages table cut at the end of the machine says so', async () => {
      const r = await cli('state', 'pages', '--db', db, '--pfn', '0x17f0', '--count', '32')
      expect(r.code).toBe(0)
      expect(r.out).toContain("(16 of 32 frames shown: the machine's frames end at 0x17ff)")
      // Frames in hex in the table too, as dump_page prints them.
      expect(r.out).toMatch(/^\s+0x17f0 /m)
      expect(r.out).toMatch(/^\s+0x17ff /m)
    })
  })

  describe('event text in the kernel words', () => {
    it('zones and migratetypes by name, frames in hex; --json keeps the numbers', async () => {
      const freed = events.find((e) => e.type === 'PageFreed' && e.data.zone === 1 && e.data.mt === 1)!
      expect(freed).toBeDefined()
      const r = await cli('events', '--db', db, '--from', String(freed.seq), '--to', String(freed.seq))
      expect(r.code).toBe(0)
      const d = freed.data as { pfn: number; order: number }
      expect(r.out).toContain(`PageFreed`)
      expect(r.out).toContain(`zone=Normal pfn=0x${d.pfn.toString(16)} order=${d.order} mt=Movable`)
      const j = await cli('events', '--db', db, '--from', String(freed.seq), '--to', String(freed.seq), '--json')
      expect(JSON.parse(j.out)).toEqual(freed)
      const boot = await cli('events', '--db', db, '--to', '1')
      expect(boot.out).toContain('zones=DMA32[0x0-0x7ff],Normal[0x800-0x17ff]')
    })

    it('--pfn takes the hex that the text prints', async () => {
      const dec = await cli('events', '--db', db, '--pfn', '2048', '--json')
      const hex = await cli('events', '--db', db, '--pfn', '0x800', '--json')
      expect(hex.code).toBe(0)
      expect(hex.out).toBe(dec.out)
    })
  })

  describe('logs', () => {
    it('--log-level is taken by every command', async () => {
      for (const argv of [['runs'], ['events', '--limit', '1'], ['state', 'zone'], ['state', 'pages'], ['state', 'cpus'], ['check']]) {
        const r = await cli(...argv, '--db', db, '--log-level', 'error')
        expect(r.code, argv.join(' ')).toBe(0)
      }
      const bad = await cli('runs', '--db', db, '--log-level', 'loud')
      expect(bad.code).toBe(2)
      expect(bad.err).toContain('--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "loud"')
    })

    it('on a terminal, logs are pretty and never written into the progress bar line', async () => {
      let err = ''
      const io: Io = { out: () => {}, err: (s) => void (err += s), errIsTTY: true }
      const code = await main(['run', '--db', db, '--workload', path.join(dir, 'w.json'), '--log-level', 'info'], io)
      expect(code).toBe(0)
      expect(err).toContain('simulating [')
      expect(err).toContain('run created')
      expect(err).not.toMatch(/^\{"level"/m)
      // Whatever follows the last line clear of each line is a log record, never the bar with
      // text after it; and the bar is cleared before every record.
      for (const line of err.split('\n')) {
        const tail = line.slice(line.lastIndexOf('\r\u001b[K') + 1)
        expect(tail).not.toMatch(/simulating \[.*\].*(INFO|run )/)
      }
      expect(err.lastIndexOf('simulating [')).toBeLessThan(err.lastIndexOf('\r\u001b[K'))
    })
  })

  describe('a closed pipe', () => {
    beforeAll(() => ensureBuilt())

    it('mmsim events | head -1 ends quietly with status 0', () => {
      for (const json of [false, true]) {
        const r = spawnSync('bash', ['-c', `node "${MMSIM_JS}" events --db "${db}"${json ? ' --json' : ''} | head -1; echo "status \${PIPESTATUS[0]}" >&2`], {
          cwd: ROOT,
          encoding: 'utf8',
        })
        expect(lines(r.stdout)).toHaveLength(1)
        expect(r.stdout).toMatch(json ? /^\{"seq":1,/ : /^ +1 +0ns/)
        expect(r.stderr).toBe('status 0\n')
      }
    })
  })
})

describe('replay, fork and diff: --json, exit codes, messages', () => {
  const dir = tmpDir()
  const db = path.join(dir, 'r.db')

  beforeAll(async () => {
    fs.writeFileSync(
      path.join(dir, 'w.json'),
      JSON.stringify(
        workload([
          { op: 'churn', cpu: 0, steps: 500 },
          { op: 'churn', cpu: 1, steps: 500 },
        ]),
      ),
    )
    expect((await cli('run', '--db', db, '--workload', path.join(dir, 'w.json'), '--no-progress')).code).toBe(0)
  })

  it('each answers --json with one object, exit 0 when the runs are the same; --log-level is taken', async () => {
    const replay = await cli('replay', '--db', db, '--run', '1', '--json', '--log-level', 'error')
    expect(replay.code).toBe(0)
    expect(JSON.parse(replay.out)).toMatchObject({ mode: 'verify', identical: true, parent: { id: 1 }, run: { runId: 2 } })
    const fork = await cli('fork', '--db', db, '--run', '1', '--at', '100', '--json', '--log-level', 'error')
    expect(fork.code).toBe(0)
    expect(JSON.parse(fork.out)).toMatchObject({ atSeq: 100, prefixIdentical: true, run: { runId: 3 } })
    const diff = await cli('diff', '--db', db, '--run', '1', '--run', '2', '--json', '--log-level', 'error')
    expect(diff.code).toBe(0)
    expect(JSON.parse(diff.out)).toMatchObject({ identical: true, divergence: null, a: { id: 1 }, b: { id: 2 } })
  })

  it('bad input is exit 2 with a message that says what is wanted', async () => {
    const cases: [string[], string][] = [
      [['replay'], 'mmsim replay: --run is required'],
      [['fork', '--run', '1'], 'mmsim fork: --at is required'],
      [['replay', '--run', '99'], 'no run 99'],
      [['replay', '--run', '1', '--variant', 'discardList'], '--variant: expected a variant key=value, one of discardList=on|off'],
      [['replay', '--run', '1', '--variant', 'discardList=maybe'], '--variant: expected a variant key=value'],
      [['replay', '--run', '1', '--variant', 'discardList=on', '--variant', 'discardList=off'], '--variant discardList is given twice'],
      [['replay', '--run', '1', '--variant', 'discardList=off'], 'switch guest page hinting, which needs machine.guestPageHinting: true'],
      [['diff', '--run', '1', '--run', '99'], 'no run 99'],
    ]
    for (const [argv, message] of cases) {
      const r = await cli(...argv, '--db', db)
      expect(r.code, argv.join(' ')).toBe(2)
      expect(r.err, argv.join(' ')).toContain(message)
      expect(r.out).toBe('')
    }
  })
})

describe('explore and merge: --json, exit codes, messages', () => {
  const dir = tmpDir()
  const race = ['--workload', 'workloads/gph-discard-list.json', '--variant', 'discardList=off']

  it('explore: exit 0 when no schedule fails, 1 when one does; --json is one object', async () => {
    const none = await cli('explore', '--db', path.join(dir, 'none.db'), '--workload', 'workloads/gph-discard-list.json', '--seeds', '3', '--json', '--log-level', 'error')
    expect(none.code).toBe(0)
    expect(JSON.parse(none.out)).toMatchObject({ explored: 3, failing: [], stored: [], complete: true })
    const found = await cli('explore', '--db', path.join(dir, 'found.db'), ...race, '--seeds', '10', '--json')
    expect(found.code).toBe(1)
    expect(lines(found.out)).toHaveLength(1)
    expect(JSON.parse(found.out)).toMatchObject({ explored: 7, failing: [{ seed: 7, first: { name: 'hinting.discard-fault-on-reused-frame' } }], stored: [{ seed: 7, runId: 1 }] })
    const text = await cli('explore', '--db', path.join(dir, 'found.db'), ...race, '--seeds', '10', '--keep', '0')
    expect(text.code).toBe(1)
    expect(text.out).toMatch(/^seed +outcome +first finding +seq +run$/m)
    expect(text.out).toMatch(/^7 +violated +hinting\.discard-fault-on-reused-frame +\d+ +-$/m)
  })

  it('explore draws a progress bar on a terminal and clears it before the answer; piped, stderr stays empty', async () => {
    let err = ''
    let out = ''
    const io: Io = { out: (s) => void (out += s), err: (s) => void (err += s), errIsTTY: true }
    const code = await main(['explore', '--db', path.join(dir, 'tty.db'), '--workload', 'workloads/gph-discard-list.json', '--seeds', '4'], io)
    expect(code).toBe(0)
    expect(err).toContain('simulating [')
    expect(err).toContain('4 of 4 schedules, 0 failing')
    expect(err.endsWith('\r\u001b[K')).toBe(true)
    expect(out).toContain('4 of 4 seeds explored')
    const piped = await cli('explore', '--db', path.join(dir, 'tty.db'), '--workload', 'workloads/gph-discard-list.json', '--seeds', '4')
    expect(piped.err).toBe('')
  })

  it('merge: exit 0 and --json is one object', async () => {
    const r = await cli('merge', path.join(dir, 'merged.db'), path.join(dir, 'found.db'), '--json')
    expect(r.code).toBe(0)
    expect(JSON.parse(r.out)).toMatchObject({ runs: [{ from: 1, id: 1, seed: 7 }] })
  })

  it('bad input is exit 2 with a message that says what is wanted', async () => {
    const cases: [string[], string][] = [
      [['explore', ...race], 'mmsim explore: --seeds is required'],
      [['explore', ...race, '--seeds', '0'], '--seeds: expected an integer 1..'],
      [['explore', ...race, '--seeds', '4', '--shard', '4/4'], '--shard: expected a shard k/n'],
      [['explore', ...race, '--seeds', '4', '--shard', 'x'], '--shard: expected a shard k/n'],
      [['explore', ...race, '--seeds', '4', '--depth', '2'], '--depth is PCT'],
      [['explore', ...race, '--seeds', '4', '--strategy', 'dfs'], '--strategy: expected one of random, pct'],
      [['explore', ...race, '--seeds', '4', '--workers', '0'], '--workers: expected an integer 1..'],
      [['explore', '--workload', 'workloads/gph-discard-list.json', '--variant', 'stateChange=maybe', '--seeds', '4'], '--variant: expected a variant key=value'],
      [['explore', '--workload', path.join(dir, 'missing.json'), '--seeds', '4'], 'missing.json: cannot read: ENOENT'],
      [['merge'], 'mmsim merge OUT.db IN.db...'],
      [['merge', path.join(dir, 'm.db'), path.join(dir, 'missing.db')], 'missing.db: no such database'],
    ]
    for (const [argv, message] of cases) {
      const r = await cli(...argv, ...(argv[0] === 'explore' ? ['--db', path.join(dir, 'bad.db')] : []))
      expect(r.code, argv.join(' ')).toBe(2)
      expect(r.err, argv.join(' ')).toContain(message)
      expect(r.out).toBe('')
    }
    expect(fs.existsSync(path.join(dir, 'bad.db'))).toBe(false)
  })
})
