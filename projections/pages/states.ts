// s390 page states: the valid (usage, content) pairs, what each ESSA order does to them, and
// which transitions the architecture allows (kernel-facts.md §1, "States").
import { PAGE_STATES, type PageState } from '../../events/hinting'

/** A page state as a small integer: its index in PAGE_STATES. */
export const STATE_CODE: Readonly<Record<PageState, number>> = Object.fromEntries(PAGE_STATES.map((s, i) => [s, i])) as Record<PageState, number>
export const stateName = (code: number): PageState => PAGE_STATES[code]!

export const Sr = STATE_CODE.Sr
export const Sp = STATE_CODE.Sp
export const Sz = STATE_CODE.Sz
export const Ur = STATE_CODE.Ur
export const Uz = STATE_CODE.Uz
export const Vr = STATE_CODE.Vr
export const Vz = STATE_CODE.Vz
export const Pr = STATE_CODE.Pr

export const usageOf = (s: PageState): 'S' | 'U' | 'V' | 'P' => s[0] as 'S' | 'U' | 'V' | 'P'
export const contentOf = (s: PageState): 'r' | 'p' | 'z' => s[1] as 'r' | 'p' | 'z'

/**
 * The guest's ESSA orders change only the usage part of resident or zero pages. A preserved
 * (paged-out) page becomes Uz when set unused and Vz when set volatile; the host writes Vz where
 * Pz would result.
 */
const withUsage = (s: PageState, u: 'S' | 'U' | 'V' | 'P'): PageState => {
  const c = contentOf(s)
  if (c === 'p') return u === 'S' ? 'Sp' : u === 'U' ? 'Uz' : 'Vz'
  if (u === 'P' && c === 'z') return 'Vz'
  return `${u}${c}` as PageState
}

export const essa_set_unused = (s: PageState): PageState => withUsage(s, 'U')
export const essa_set_stable = (s: PageState): PageState => withUsage(s, 'S')
export const essa_set_volatile = (s: PageState): PageState => withUsage(s, 'V')
/**
 * SET_POT_VOLATILE (pgste_perform_essa): a paged-out page the guest changed since it was last
 * written out stays stable (its content is only on the host's swap); a clean one becomes Vz.
 */
export const essa_set_pot_volatile = (s: PageState, changed = false): PageState => (s === 'Sp' && changed ? 'Sp' : withUsage(s, 'P'))
/** SET_STABLE_IF_NOT_DISCARDED: fails (null) exactly when the page is discarded. */
export const essa_set_stable_if_not_discarded = (s: PageState): PageState | null => (s === 'Vz' ? null : withUsage(s, 'S'))

export type Actor = 'guest' | 'host-touch' | 'host-discard' | 'host-pageout'

const GUEST_LEGAL: ReadonlySet<string> = (() => {
  const out = new Set<string>()
  for (const from of PAGE_STATES)
    for (const u of ['S', 'U', 'V', 'P'] as const) {
      const to = withUsage(from, u)
      if (to !== from) out.add(`${from}>${to}`)
    }
  return out
})()

const LEGAL: Readonly<Record<Actor, ReadonlySet<string>>> = {
  guest: GUEST_LEGAL,
  'host-touch': new Set(['Sz>Sr', 'Sp>Sr']),
  'host-discard': new Set(['Ur>Uz', 'Vr>Vz', 'Pr>Vz']),
  'host-pageout': new Set(['Sr>Sp', 'Pr>Sp']),
}

export const isLegalTransition = (actor: Actor, from: PageState, to: PageState): boolean => LEGAL[actor].has(`${from}>${to}`)
