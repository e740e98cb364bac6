// Codec combinators with the error messages people need: objects that reject unknown fields
// (a misspelt "ordr" must not be silently ignored) and unions chosen by a tag field.
import * as t from 'io-ts'
import * as E from 'fp-ts/Either'

/**
 * An object with required and optional fields that fails on any other field, naming it. The
 * TypeScript type is the intersection of both, as with t.intersection([t.type, t.partial]).
 */
export const strictObject = <R extends t.Props, O extends t.Props>(
  name: string,
  required: R,
  optional: O = {} as O,
): t.Type<t.TypeOfProps<R> & t.TypeOfPartialProps<O>, t.OutputOfProps<R> & t.OutputOfPartialProps<O>, unknown> => {
  const inner = t.intersection([t.type(required), t.partial(optional)])
  const req = t.type(required)
  const opt = t.partial(optional)
  const known = new Set([...Object.keys(required), ...Object.keys(optional)])
  return new t.Type(
    name,
    (u): u is t.TypeOfProps<R> & t.TypeOfPartialProps<O> => inner.is(u),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `${name} (an object)`)
      const extra = Object.keys(u)
        .filter((k) => !known.has(k))
        .sort()
      if (extra.length > 0) {
        const k = extra[0]!
        return t.failure((u as Record<string, unknown>)[k], [...c, { key: k, type: t.never, actual: u }], `unknown field "${k}" (known: ${[...known].sort().join(', ')})`)
      }
      // Each part validated in the caller's context, so that error paths name the fields only.
      const a = req.validate(u, c)
      const b = opt.validate(u, c)
      if (E.isLeft(a) || E.isLeft(b)) return t.failures([...(E.isLeft(a) ? a.left : []), ...(E.isLeft(b) ? b.left : [])])
      return t.success({ ...(b.right as object), ...(a.right as object) } as t.TypeOfProps<R> & t.TypeOfPartialProps<O>)
    },
    (a) => inner.encode(a) as t.OutputOfProps<R> & t.OutputOfPartialProps<O>,
  )
}

/**
 * A union of object codecs chosen by the value of `tag`: an unknown tag is reported once, and a
 * known one reports only its own codec's errors.
 */
export const taggedUnion = <K extends string, M extends Record<string, t.Mixed>>(
  name: string,
  tag: K,
  members: M,
): t.Type<t.TypeOf<M[keyof M]>, t.OutputOf<M[keyof M]>, unknown> => {
  const names = Object.keys(members)
  return new t.Type(
    name,
    (u): u is t.TypeOf<M[keyof M]> => names.some((n) => members[n]!.is(u)),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `${name} (an object with "${tag}")`)
      const v = (u as Record<string, unknown>)[tag]
      const member = typeof v === 'string' && Object.prototype.hasOwnProperty.call(members, v) ? members[v] : undefined
      if (member === undefined) return t.failure(v, [...c, { key: tag, type: t.string, actual: u }], `one of ${names.map((n) => `"${n}"`).join(' | ')}`)
      return member.validate(u, c)
    },
    (a) => members[(a as Record<string, string>)[tag]!]!.encode(a),
  )
}
