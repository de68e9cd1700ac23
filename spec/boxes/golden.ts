/**
 * Reference outputs of ensemble-boxes (spec/fixtures/boxes_public.json, or the file named by
 * `BOXES_GOLDEN`), decoded with io-ts: closed objects (an unknown key is an error, not an ignored
 * field), parameters per function, numbers or the strings "NaN" / "Infinity" / "-Infinity".
 * {@link loadBoxesGolden} throws with the decode errors listed, so a file of another shape fails the
 * suite instead of checking fewer cases.
 *
 * The views are decoded only as lists of numbers: a reference file may hold inputs our rules refuse
 * (corners out of order, lists of different lengths), and the parity runner hands them to the same
 * checks a user's data meets.
 *
 * @since 0.3.0
 */
import fs from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import * as t from 'io-ts'
import { PathReporter } from 'io-ts/lib/PathReporter.js'
import { referenceFile } from '../parity/reference-file.js'

type ClosedOf<P extends t.Props, O extends t.Props> = t.TypeOf<t.IntersectionC<[t.TypeC<P>, t.PartialC<O>]>>

const closed = <P extends t.Props, O extends t.Props>(props: P, optional: O): t.Type<ClosedOf<P, O>, unknown, unknown> => {
  const codec = t.intersection([t.type(props), t.partial(optional)])
  const keys = [...Object.keys(props), ...Object.keys(optional)]
  return new t.Type<ClosedOf<P, O>, unknown, unknown>(
    'Closed',
    (u): u is ClosedOf<P, O> => codec.is(u),
    (u, c) => {
      if (typeof u === 'object' && u !== null && !Array.isArray(u)) {
        const extra = Object.keys(u).filter((k) => !keys.includes(k))
        if (extra.length > 0) return t.failure(u, c, `unexpected key(s) ${extra.join(', ')} (allowed: ${keys.join(', ')})`)
      }
      return codec.validate(u, c)
    },
    t.identity,
  )
}

/** A JSON number, or one of the strings used for non-finite values. */
const Num = new t.Type<number, number | string, unknown>(
  'Num',
  (u): u is number => typeof u === 'number',
  (u, c) => {
    if (typeof u === 'number') return t.success(u)
    if (u === 'NaN') return t.success(Number.NaN)
    if (u === 'Infinity') return t.success(Number.POSITIVE_INFINITY)
    if (u === '-Infinity') return t.success(Number.NEGATIVE_INFINITY)
    return t.failure(u, c, 'expected a number or "NaN" / "Infinity" / "-Infinity"')
  },
  t.identity,
)

const Weights = t.union([t.null, t.array(Num)])

const WbfParams = closed({}, { weights: Weights, iou_thr: Num, skip_box_thr: Num, conf_type: t.string, allows_overflow: t.boolean })
const NmsParams = closed({}, { weights: Weights, iou_thr: Num })
const SoftNmsParams = closed({}, { weights: Weights, iou_thr: Num, sigma: Num, thresh: Num, method: Num })
const NmwParams = closed({}, { weights: Weights, iou_thr: Num, skip_box_thr: Num })

const View = closed({ boxes: t.array(t.array(Num)), scores: t.array(Num), labels: t.array(Num) }, {})
/** One view's detections as the file stores them (not yet checked against our rules). */
export type GoldenView = t.TypeOf<typeof View>

const Out = closed({ boxes: t.array(t.array(Num)), scores: t.array(Num), labels: t.array(Num) }, {})
/** What the reference returned. */
export type GoldenOut = t.TypeOf<typeof Out>

const ErrorC = closed({ type: t.string, message: t.string }, {})
/** What the reference raised. */
export type GoldenError = t.TypeOf<typeof ErrorC>

const outcome = { out: Out, error: ErrorC }
const caseOf = <F extends string, P extends t.Mixed>(fn: F, params: P) =>
  closed({ id: t.string, function: t.literal(fn), params, views: t.array(View) }, outcome)

const Case = t.union([caseOf('wbf', WbfParams), caseOf('nms', NmsParams), caseOf('soft_nms', SoftNmsParams), caseOf('nmw', NmwParams)])
/** One reference call: the function, its parameters as passed, the views, and what came back. */
export type BoxCase = t.TypeOf<typeof Case>

const Golden = closed({ cases: t.array(Case) }, { meta: t.UnknownRecord })
/** The decoded file. */
export type BoxesGolden = t.TypeOf<typeof Golden>

/** Decodes parsed JSON; `Left` carries one readable line per decode error. A case needs exactly one of `out` and `error`. */
export const decodeBoxesGolden = (json: unknown): E.Either<readonly string[], BoxesGolden> =>
  pipe(
    Golden.decode(json),
    E.mapLeft((errors) => PathReporter.report(E.left(errors))),
    E.flatMap((g) => {
      const bad = g.cases.filter((c) => (c.out === undefined) === (c.error === undefined)).map((c) => `case ${c.id}: needs exactly one of 'out' and 'error'`)
      const ids = new Set<string>()
      const repeated = g.cases.filter((c) => ids.size === ids.add(c.id).size).map((c) => `case id ${c.id} occurs twice`)
      return bad.length + repeated.length === 0 ? E.right(g) : E.left([...bad, ...repeated])
    }),
  )

/** The copy of ../shared/golden/boxes_public.json, so the project runs on its own. */
export const boxesFixture = new URL('../fixtures/boxes_public.json', import.meta.url)

/** The file the suite reads: `BOXES_GOLDEN` when set, else the fixture. */
export const boxesGoldenFile = (env: Readonly<Record<string, string | undefined>> = process.env): URL | string =>
  referenceFile('BOXES_GOLDEN', boxesFixture, env)

/** Reads and decodes a reference file, throwing with every decode error when it does not match. */
export const loadBoxesGolden = (file: URL | string = boxesGoldenFile()): BoxesGolden => {
  const parsed: unknown = JSON.parse(fs.readFileSync(file, 'utf8'))
  const decoded = decodeBoxesGolden(parsed)
  if (E.isLeft(decoded)) {
    throw new Error(`the ensemble-boxes reference file ${String(file)} does not decode (${decoded.left.length} errors):\n  ${decoded.left.slice(0, 20).join('\n  ')}`)
  }
  return decoded.right
}
