/**
 * Box-fusion options: the four methods with their parameters, ensemble-boxes' defaults, and the
 * one validation every caller goes through (typed code, plain JavaScript, a JSON config, the CLI).
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, type ParamError } from '../errors.js'
import { safeString } from '../guard/decode.js'

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * How weighted boxes fusion scores a cluster of n boxes (scores sᵢ, view weights wᵢ) among V views
 * whose weights sum to W (docs/boxes.md has the derivations):
 *
 * - `avg`: `(Σ sᵢwᵢ / n) · min(V, n) / W` (with `allowsOverflow`: `Σ sᵢwᵢ / W`, which may exceed 1);
 * - `max`: `max sᵢwᵢ / max w`;
 * - `box_and_model_avg`: `(Σ sᵢwᵢ / Σ wᵢ) · (Σ of the weights of the views present) / W`;
 * - `absent_model_aware_avg`: `Σ sᵢwᵢ / (Σ wᵢ + Σ of the weights of the views absent)`.
 * @example
 * import { boxes } from 'tta-lens'
 * const rule: boxes.ConfidenceRule = 'box_and_model_avg'
 * assert.ok(boxes.confidenceRules.includes(rule))
 * @category model
 */
export type ConfidenceRule = 'avg' | 'max' | 'box_and_model_avg' | 'absent_model_aware_avg'

/**
 * A box-fusion method and its parameters. Everything optional defaults to ensemble-boxes' value
 * ({@link fusionDefaults}); `weights` has one entry per view (finite, ≥ 0, not all 0).
 *
 * - `nms`: class-wise greedy non-maximum suppression: a box is dropped when its IoU with a kept,
 *   higher-scored box of its class is above `iouThreshold`.
 * - `soft-nms`: instead of dropping, each lower box's score is multiplied by `1 − IoU` when the IoU
 *   is above `iouThreshold` (`linear`), or by `exp(−IoU² / sigma)` (`gaussian`, which ignores
 *   `iouThreshold`); boxes whose score ends at or below `scoreThreshold` are dropped. `scores`:
 *   return the `decayed` scores (the default; soft-NMS's answer) or the `original` ones
 *   (ensemble-boxes' behaviour).
 * - `nmw`: non-maximum weighted: each cluster (boxes whose IoU with its top box is above
 *   `iouThreshold`) becomes its top box's score and the average of its boxes weighted by score × IoU
 *   with the top box.
 * - `wbf`: weighted boxes fusion: clusters (IoU with the cluster's running fused box above
 *   `iouThreshold`) become the score-weighted average of their boxes, scored by `confidence`.
 *
 * With `weights`, nms and soft-nms scale each score to `score · wᵢ / Σw`, nmw to `score · wᵢ / max w`,
 * wbf to `score · wᵢ` (then rescaled by the confidence rule); `skipThreshold` drops boxes whose
 * score, before weighting, is below it.
 * @example
 * import { boxes } from 'tta-lens'
 * const options: readonly boxes.FusionOptions[] = [
 *   { method: 'nms', iouThreshold: 0.5 },
 *   { method: 'soft-nms', kernel: 'linear', iouThreshold: 0.3 },
 *   { method: 'nmw', skipThreshold: 0.1 },
 *   { method: 'wbf', confidence: 'max', weights: [2, 1] },
 * ]
 * assert.deepStrictEqual(options.map((o) => o.method), ['nms', 'soft-nms', 'nmw', 'wbf'])
 * @category model
 */
export type FusionOptions =
  | { readonly method: 'nms'; readonly iouThreshold?: number; readonly weights?: readonly number[] }
  | {
    readonly method: 'soft-nms'
    readonly kernel?: 'linear' | 'gaussian'
    readonly iouThreshold?: number
    readonly sigma?: number
    readonly scoreThreshold?: number
    readonly weights?: readonly number[]
    readonly scores?: 'decayed' | 'original'
  }
  | { readonly method: 'nmw'; readonly iouThreshold?: number; readonly skipThreshold?: number; readonly weights?: readonly number[] }
  | {
    readonly method: 'wbf'
    readonly iouThreshold?: number
    readonly skipThreshold?: number
    readonly weights?: readonly number[]
    readonly confidence?: ConfidenceRule
    readonly allowsOverflow?: boolean
  }

/**
 * The name of a fusion method.
 * @example
 * import { boxes } from 'tta-lens'
 * const m: boxes.FusionMethod = 'wbf'
 * assert.ok(boxes.fusionMethods.includes(m))
 * @category model
 */
export type FusionMethod = FusionOptions['method']

/**
 * Every fusion method, in the order the docs list them.
 * @example
 * import { boxes } from 'tta-lens'
 * assert.deepStrictEqual(boxes.fusionMethods, ['nms', 'soft-nms', 'nmw', 'wbf'])
 * @category constants
 */
export const fusionMethods: readonly FusionMethod[] = ['nms', 'soft-nms', 'nmw', 'wbf']

/**
 * Every confidence rule of weighted boxes fusion.
 * @example
 * import { boxes } from 'tta-lens'
 * assert.strictEqual(boxes.confidenceRules.length, 4)
 * @category constants
 */
export const confidenceRules: readonly ConfidenceRule[] = ['avg', 'max', 'box_and_model_avg', 'absent_model_aware_avg']

/**
 * The defaults, ensemble-boxes' own: `nms(iou_thr=0.5)`, `soft_nms(method=2 (gaussian),
 * iou_thr=0.5, sigma=0.5, thresh=0.001)`, `non_maximum_weighted(iou_thr=0.55, skip_box_thr=0)`,
 * `weighted_boxes_fusion(iou_thr=0.55, skip_box_thr=0, conf_type='avg', allows_overflow=False)`.
 * @example
 * import { boxes } from 'tta-lens'
 * assert.strictEqual(boxes.fusionDefaults.wbf.iouThreshold, 0.55)
 * assert.strictEqual(boxes.fusionDefaults['soft-nms'].kernel, 'gaussian')
 * @category constants
 */
export const fusionDefaults = {
  nms: { iouThreshold: 0.5 },
  'soft-nms': { kernel: 'gaussian', iouThreshold: 0.5, sigma: 0.5, scoreThreshold: 0.001, scores: 'decayed' },
  nmw: { iouThreshold: 0.55, skipThreshold: 0 },
  wbf: { iouThreshold: 0.55, skipThreshold: 0, confidence: 'avg', allowsOverflow: false },
} as const

// -------------------------------------------------------------------------------------------------
// codecs
// -------------------------------------------------------------------------------------------------

/** A value in a message, and never a throw: JSON.stringify throws on a bigint or a cycle (and a toJSON may throw). */
const show = (u: unknown): string => {
  if (typeof u === 'number') return String(u)
  if (typeof u === 'string') return `'${u}'`
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return safeString(u)
  }
}

/** A number with a range check whose failure message says the range. */
const numberIn = (name: string, range: string, ok: (x: number) => boolean): t.Type<number, number, unknown> =>
  new t.Type<number, number, unknown>(
    name,
    (u): u is number => typeof u === 'number' && ok(u),
    (u, c) => (typeof u === 'number' && ok(u) ? t.success(u) : t.failure(u, c, `must be ${range}, got ${show(u)}`)),
    t.identity,
  )

const Unit = numberIn('UnitInterval', 'a number in [0, 1]', (x) => x >= 0 && x <= 1)
const Positive = numberIn('Positive', 'a finite number > 0', (x) => Number.isFinite(x) && x > 0)
const Weights = new t.Type<readonly number[], readonly number[], unknown>(
  'Weights',
  (u): u is readonly number[] => Array.isArray(u) && u.every((w) => typeof w === 'number' && Number.isFinite(w) && w >= 0),
  (u, c) => {
    if (!Array.isArray(u)) return t.failure(u, c, `must be an array of numbers (one per view), got ${show(u)}`)
    const list: readonly unknown[] = u
    const bad = list.findIndex((w) => typeof w !== 'number' || !Number.isFinite(w) || w < 0)
    if (bad >= 0) return t.failure(u, c, `must be finite numbers ≥ 0; weight ${bad} is ${show(list[bad])}`)
    const weights = list.filter((w): w is number => typeof w === 'number')
    return weights.length > 0 && weights.every((w) => w === 0) ? t.failure(u, c, 'must not all be 0') : t.success(weights)
  },
  t.identity,
)
const oneOf = <K extends string>(name: string, values: readonly K[]): t.Type<K, K, unknown> =>
  new t.Type<K, K, unknown>(
    name,
    (u): u is K => values.some((v) => v === u),
    (u, c) => {
      const found = values.find((v) => v === u)
      return found === undefined ? t.failure(u, c, `must be one of ${values.map((v) => `'${v}'`).join(', ')}, got ${show(u)}`) : t.success(found)
    },
    t.identity,
  )
const Bool = new t.Type<boolean, boolean, unknown>('Bool', t.boolean.is, (u, c) => (typeof u === 'boolean' ? t.success(u) : t.failure(u, c, `must be true or false, got ${show(u)}`)), t.identity)

const MethodCodec = oneOf<FusionMethod>('FusionMethod', fusionMethods)

/** Each method's optional parameters (with `method` itself, the keys a config may hold). */
const parameters = {
  nms: t.partial({ iouThreshold: Unit, weights: Weights }),
  'soft-nms': t.partial({
    kernel: oneOf('Kernel', ['linear', 'gaussian'] as const),
    iouThreshold: Unit,
    sigma: Positive,
    scoreThreshold: Unit,
    weights: Weights,
    scores: oneOf('Scores', ['decayed', 'original'] as const),
  }),
  nmw: t.partial({ iouThreshold: Unit, skipThreshold: Unit, weights: Weights }),
  wbf: t.partial({ iouThreshold: Unit, skipThreshold: Unit, weights: Weights, confidence: oneOf('ConfidenceRule', confidenceRules), allowsOverflow: Bool }),
} as const

/**
 * The JSON form of {@link FusionOptions}, as an io-ts codec: `{ "method": "wbf", "iouThreshold": 0.6 }`.
 * It checks types and ranges; {@link parseFusionOptions} also rejects unknown keys and says why.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxes } from 'tta-lens'
 * assert.ok(E.isRight(boxes.FusionOptionsCodec.decode({ method: 'nmw', iouThreshold: 0.4 })))
 * assert.ok(E.isLeft(boxes.FusionOptionsCodec.decode({ method: 'nmw', iouThreshold: 4 })))
 * @category model
 */
export const FusionOptionsCodec: t.Type<FusionOptions, FusionOptions, unknown> = new t.Type<FusionOptions, FusionOptions, unknown>(
  'FusionOptions',
  (u): u is FusionOptions => E.isRight(decodeOptions(u)),
  (u, c) => {
    const decoded = decodeOptions(u)
    return E.isRight(decoded) ? t.success(decoded.right) : t.failure(u, c, decoded.left)
  },
  t.identity,
)

const messagesOf = (errors: t.Errors, whole: string): string => {
  const lines = errors.map((e) => {
    const key = e.context.map((c) => c.key).filter((k) => k !== '').join('.')
    return `${key === '' ? whole : key} ${e.message ?? `must be ${e.context[e.context.length - 1]?.type.name ?? 'valid'}, got ${show(e.value)}`}`
  })
  return [...new Set(lines)].join('; ')
}

function decodeOptions(u: unknown): E.Either<string, FusionOptions> {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) {
    return E.left(`fusion options must be an object such as { method: 'wbf' }, got ${show(u)}`)
  }
  const record: Readonly<Record<string, unknown>> = Object.fromEntries(Object.entries(u))
  const method = MethodCodec.decode(record['method'])
  if (E.isLeft(method)) return E.left(`fusion option ${messagesOf(method.left, "'method'")}`)
  const codec = parameters[method.right]
  const allowed = ['method', ...Object.keys(codec.props)]
  const unknown = Object.keys(record).filter((k) => !allowed.includes(k))
  if (unknown.length > 0) {
    return E.left(`unknown fusion option${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} for method '${method.right}' (allowed: ${allowed.join(', ')})`)
  }
  // `undefined` values count as absent, as they do for typed callers under optional properties.
  const present = Object.fromEntries(Object.entries(record).filter(([k, v]) => k !== 'method' && v !== undefined))
  const fail = (errors: t.Errors): E.Either<string, FusionOptions> => E.left(`fusion option ${messagesOf(errors, 'options')} (method '${method.right}')`)
  // Each branch rebuilds the options from the decoded values, leaving absent keys out (exact optional properties).
  switch (method.right) {
    case 'nms': {
      const d = parameters.nms.decode(present)
      if (E.isLeft(d)) return fail(d.left)
      const { iouThreshold, weights } = d.right
      return E.right({ method: 'nms', ...(iouThreshold === undefined ? {} : { iouThreshold }), ...(weights === undefined ? {} : { weights }) })
    }
    case 'soft-nms': {
      const d = parameters['soft-nms'].decode(present)
      if (E.isLeft(d)) return fail(d.left)
      const { kernel, iouThreshold, sigma, scoreThreshold, weights, scores } = d.right
      return E.right({
        method: 'soft-nms',
        ...(kernel === undefined ? {} : { kernel }),
        ...(iouThreshold === undefined ? {} : { iouThreshold }),
        ...(sigma === undefined ? {} : { sigma }),
        ...(scoreThreshold === undefined ? {} : { scoreThreshold }),
        ...(weights === undefined ? {} : { weights }),
        ...(scores === undefined ? {} : { scores }),
      })
    }
    case 'nmw': {
      const d = parameters.nmw.decode(present)
      if (E.isLeft(d)) return fail(d.left)
      const { iouThreshold, skipThreshold, weights } = d.right
      return E.right({
        method: 'nmw',
        ...(iouThreshold === undefined ? {} : { iouThreshold }),
        ...(skipThreshold === undefined ? {} : { skipThreshold }),
        ...(weights === undefined ? {} : { weights }),
      })
    }
    case 'wbf': {
      const d = parameters.wbf.decode(present)
      if (E.isLeft(d)) return fail(d.left)
      const { iouThreshold, skipThreshold, weights, confidence, allowsOverflow } = d.right
      return E.right({
        method: 'wbf',
        ...(iouThreshold === undefined ? {} : { iouThreshold }),
        ...(skipThreshold === undefined ? {} : { skipThreshold }),
        ...(weights === undefined ? {} : { weights }),
        ...(confidence === undefined ? {} : { confidence }),
        ...(allowsOverflow === undefined ? {} : { allowsOverflow }),
      })
    }
  }
}

/**
 * Checks fusion options that come from outside (a JSON config, a CLI flag, an untyped caller):
 * a known method, only that method's keys, every threshold in [0, 1], `sigma > 0`, weights finite,
 * ≥ 0 and not all 0. Whether the weights match the number of views is checked by `fuse`.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxes } from 'tta-lens'
 * assert.deepStrictEqual(boxes.parseFusionOptions({ method: 'wbf', confidence: 'max' }), E.right({ method: 'wbf', confidence: 'max' }))
 * const typo = boxes.parseFusionOptions({ method: 'wbf', iou_thr: 0.5 })
 * assert.ok(E.isLeft(typo) && typo.left._tag === 'ParamError')
 * assert.match(E.isLeft(typo) ? typo.left.message : '', /unknown fusion option 'iou_thr' for method 'wbf'/)
 * const range = boxes.parseFusionOptions({ method: 'soft-nms', sigma: 0 })
 * assert.match(E.isLeft(range) ? range.left.message : '', /sigma must be a finite number > 0, got 0/)
 * @category constructors
 */
export const parseFusionOptions = (u: unknown): E.Either<ParamError, FusionOptions> => E.mapLeft(paramError)(decodeOptions(u))

// -------------------------------------------------------------------------------------------------
// resolved settings (internal)
// -------------------------------------------------------------------------------------------------

/** Options with every default filled in; what the algorithms read. */
export type Resolved =
  | { readonly method: 'nms'; readonly iouThreshold: number; readonly weights: readonly number[] | undefined }
  | {
    readonly method: 'soft-nms'
    readonly kernel: 'linear' | 'gaussian'
    readonly iouThreshold: number
    readonly sigma: number
    readonly scoreThreshold: number
    readonly weights: readonly number[] | undefined
    readonly scores: 'decayed' | 'original'
  }
  | { readonly method: 'nmw'; readonly iouThreshold: number; readonly skipThreshold: number; readonly weights: readonly number[] | undefined }
  | {
    readonly method: 'wbf'
    readonly iouThreshold: number
    readonly skipThreshold: number
    readonly weights: readonly number[] | undefined
    readonly confidence: ConfidenceRule
    readonly allowsOverflow: boolean
  }

/** Fills in ensemble-boxes' defaults. */
export const resolve = (o: FusionOptions): Resolved => {
  switch (o.method) {
    case 'nms':
      return { method: 'nms', iouThreshold: o.iouThreshold ?? fusionDefaults.nms.iouThreshold, weights: o.weights }
    case 'soft-nms': {
      const d = fusionDefaults['soft-nms']
      return {
        method: 'soft-nms', kernel: o.kernel ?? d.kernel, iouThreshold: o.iouThreshold ?? d.iouThreshold, sigma: o.sigma ?? d.sigma,
        scoreThreshold: o.scoreThreshold ?? d.scoreThreshold, weights: o.weights, scores: o.scores ?? d.scores,
      }
    }
    case 'nmw':
      return { method: 'nmw', iouThreshold: o.iouThreshold ?? fusionDefaults.nmw.iouThreshold, skipThreshold: o.skipThreshold ?? fusionDefaults.nmw.skipThreshold, weights: o.weights }
    case 'wbf': {
      const d = fusionDefaults.wbf
      return {
        method: 'wbf', iouThreshold: o.iouThreshold ?? d.iouThreshold, skipThreshold: o.skipThreshold ?? d.skipThreshold, weights: o.weights,
        confidence: o.confidence ?? d.confidence, allowsOverflow: o.allowsOverflow ?? d.allowsOverflow,
      }
    }
  }
}
