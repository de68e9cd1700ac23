/**
 * Decoding values from callers without types (plain JavaScript, JSON files, CLI flags) with io-ts,
 * with two things io-ts leaves to its users: unknown keys are refused (a typo such as `mege` is an
 * error, not a silently ignored option), and the message names the field that is wrong
 * (`transforms[0].scales: expected Array<number>, got string "0.5"`).
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, type ParamError } from '../errors.js'

/** A value in a message: strings quoted, long values cut. @internal */
export const showValue = (value: unknown): string => {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (typeof value === 'function') return 'a function'
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (value === null) return 'null'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'symbol') return 'a symbol'
  if (typeof value === 'bigint') return `${value.toString()}n`
  return String(value)
}

/**
 * A value in a message without ever throwing: `String(x)` throws for an object without a
 * prototype, a template string for a symbol. Numbers and short arrays of them read as written.
 * @internal
 */
export const safeString = (value: unknown): string =>
  typeof value === 'number' ? String(value)
    : Array.isArray(value) && value.length <= 8 ? `[${value.map(safeString).join(',')}]`
      : showValue(value)

const sequences = new Set(['ArrayType', 'ReadonlyArrayType', 'TupleType', 'ReadonlyTupleType'])

/**
 * The path of a failure as `a.b[2].c`. A numeric key is an index only under an array or a tuple;
 * under anything else it is io-ts's member number in an intersection or a union, and is skipped.
 */
const pathOf = (context: t.Context): string => {
  let path = ''
  for (let k = 1; k < context.length; k++) {
    const parent = context[k - 1]?.type
    const key = context[k]?.key ?? ''
    if (/^\d+$/.test(key)) {
      const indexed = parent !== undefined && '_tag' in parent && typeof parent._tag === 'string' && sequences.has(parent._tag)
      if (indexed) path += `[${key}]`
      continue
    }
    path += path === '' ? key : `.${key}`
  }
  return path
}

/**
 * The first failure of a decode, in words that name the field: what a CLI prints on one line.
 * @example
 * import * as t from 'io-ts'
 * import { describeFailure } from 'tta-lens'
 * const Config = t.type({ transforms: t.array(t.type({ scales: t.array(t.number) })) })
 * const r = Config.decode({ transforms: [{ scales: '0.5' }] })
 * assert.ok(r._tag === 'Left')
 * assert.strictEqual(describeFailure(r.left), 'transforms[0].scales: expected Array<number>, got "0.5"')
 * @category utils
 */
export const describeFailure = (errors: t.Errors): string => {
  const [first] = errors
  if (first === undefined) return 'invalid value'
  const path = pathOf(first.context)
  const expected = first.message ?? `expected ${first.context[first.context.length - 1]?.type.name ?? 'another value'}, got ${showValue(first.value)}`
  return path === '' ? expected : `${path}: ${expected}`
}

/**
 * An object codec that refuses keys it does not know, naming them: `required` keys must be
 * present, `optional` ones may be absent (or `undefined`).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import * as t from 'io-ts'
 * import { decodeWith, strictObject } from 'tta-lens'
 * const Options = strictObject('options', { }, { merge: t.string })
 * assert.ok(E.isRight(decodeWith(Options, { merge: 'max' }, 'options')))
 * const typo = decodeWith(Options, { mege: 'max' }, 'options')
 * assert.ok(E.isLeft(typo) && typo.left.message === "options: unknown key 'mege' (known: merge)")
 * @category utils
 */
export const strictObject = <R extends t.Props, O extends t.Props>(name: string, required: R, optional: O): t.Type<t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>>, unknown, unknown> => {
  const known = [...Object.keys(required), ...Object.keys(optional)]
  const inner = t.intersection([t.type(required), t.partial(optional)])
  return new t.Type<t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>>, unknown, unknown>(
    name,
    (u): u is t.TypeOf<t.TypeC<R>> & t.TypeOf<t.PartialC<O>> => inner.is(u),
    (u, c) => {
      if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `expected an object, got ${showValue(u)}`)
      const extra = Object.keys(u).find((k) => !known.includes(k))
      if (extra !== undefined) {
        return t.failure(u, c, `unknown key '${extra}' (known: ${known.length === 0 ? 'none' : known.join(', ')})`)
      }
      return inner.validate(u, c)
    },
    t.identity,
  )
}

/**
 * Decodes `value`, or returns a ParamError that starts with `what` and names the field.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import * as t from 'io-ts'
 * import { decodeWith } from 'tta-lens'
 * const r = decodeWith(t.type({ std: t.array(t.number) }), { std: [1, 'x'] }, '--config')
 * assert.ok(E.isLeft(r) && r.left.message === '--config: std[1]: expected number, got "x"')
 * @category utils
 */
export const decodeWith = <A>(codec: t.Decoder<unknown, A>, value: unknown, what: string): E.Either<ParamError, A> => {
  const decoded = codec.decode(value)
  return E.isRight(decoded) ? E.right(decoded.right) : E.left(paramError(`${what}: ${describeFailure(decoded.left)}`))
}

/** The codecs io-ts builds that {@link excessKey} can see into. */
const propsOf = (codec: t.Mixed): t.Props | undefined =>
  codec instanceof t.InterfaceType || codec instanceof t.PartialType ? codec.props : undefined

const knownKeys = (codec: t.Mixed): Set<string> | undefined => {
  const own = propsOf(codec)
  if (own !== undefined) return new Set(Object.keys(own))
  if (codec instanceof t.IntersectionType) {
    const parts: readonly t.Mixed[] = codec.types
    const sets = parts.map(knownKeys)
    if (sets.some((k) => k === undefined)) return undefined
    return new Set(sets.flatMap((k) => [...(k ?? [])]))
  }
  return undefined
}

const childCodecs = (codec: t.Mixed, key: string): readonly t.Mixed[] => {
  const own = propsOf(codec)
  if (own !== undefined) return own[key] === undefined ? [] : [own[key]]
  if (codec instanceof t.IntersectionType) {
    const parts: readonly t.Mixed[] = codec.types
    return parts.flatMap((part) => childCodecs(part, key))
  }
  return []
}

/**
 * The path of the first key of `value` that `codec` does not declare, or undefined: what io-ts's
 * `t.type` lets through silently. It looks into objects (`t.type`, `t.partial`, intersections of
 * them) and arrays of them; a union or a custom codec is taken as it is. Use it after a successful
 * decode to refuse a file with a misspelt or unknown key.
 * @example
 * import * as t from 'io-ts'
 * import { excessKey } from 'tta-lens'
 * const Codec = t.type({ model: t.type({ classes: t.number }), views: t.array(t.type({ name: t.string })) })
 * assert.strictEqual(excessKey(Codec, { model: { classes: 2 }, views: [{ name: 'a' }] }), undefined)
 * assert.strictEqual(excessKey(Codec, { model: { classes: 2, clases: 3 }, views: [] }), 'model.clases')
 * assert.strictEqual(excessKey(Codec, { model: { classes: 2 }, views: [{ name: 'a', p: 1 }] }), 'views[0].p')
 * @category utils
 */
export const excessKey = (codec: t.Mixed, value: unknown, path = ''): string | undefined => {
  if (codec instanceof t.ArrayType || codec instanceof t.ReadonlyArrayType) {
    if (!Array.isArray(value)) return undefined
    const items: readonly unknown[] = value
    for (const [i, item] of items.entries()) {
      const found = excessKey(codec.type, item, `${path}[${i}]`)
      if (found !== undefined) return found
    }
    return undefined
  }
  const known = knownKeys(codec)
  if (known === undefined || typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  for (const [key, inner] of Object.entries(value)) {
    const here = path === '' ? key : `${path}.${key}`
    if (!known.has(key)) return here
    for (const child of childCodecs(codec, key)) {
      const found = excessKey(child, inner, here)
      if (found !== undefined) return found
    }
  }
  return undefined
}
