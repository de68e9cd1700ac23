/**
 * The one decoder for wrapper options: every wrapper passes what it was given through here, so a
 * caller without types gets the same checks everywhere — unknown keys refused (`mege`), every
 * value checked, and a message that names the option (`options.backend: expected "js" | …`).
 * A wrapper with options of its own (keypoints' `coordinates`) adds their codecs.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, type LimitError, type ParamError } from '../errors.js'
import { decodeWith, showValue, strictObject } from '../guard/decode.js'
import { checkCount, limits } from '../guard/limits.js'
import { parseBudget } from '../plan/budget.js'
import type { Backend } from '../backend/backend.js'

const isBackend = (u: unknown): u is Backend =>
  typeof u === 'object' && u !== null && 'name' in u && typeof u.name === 'string' &&
  'augment' in u && typeof u.augment === 'function' && 'reduce' in u && typeof u.reduce === 'function'

const BackendCodec = new t.Type<'js' | 'reference' | 'gpujs' | Backend, unknown, unknown>(
  'backend',
  (u): u is 'js' | 'reference' | 'gpujs' | Backend => u === 'js' || u === 'reference' || u === 'gpujs' || isBackend(u),
  (u, c) => (u === 'js' || u === 'reference' || u === 'gpujs' || isBackend(u) ? t.success(u)
    : t.failure(u, c, `expected 'js', 'reference', 'gpujs' or a Backend object, got ${showValue(u)}`)),
  t.identity,
)

const isFunction = (u: unknown): u is (...args: never[]) => unknown => typeof u === 'function'
/** A function, as a codec. @internal */
export const FunctionCodec = new t.Type<(...args: never[]) => unknown, unknown, unknown>(
  'function',
  isFunction,
  (u, c) => (isFunction(u) ? t.success(u) : t.failure(u, c, `expected a function, got ${showValue(u)}`)),
  t.identity,
)

const Milliseconds = new t.Type<number, unknown, unknown>(
  'milliseconds',
  (u): u is number => typeof u === 'number' && Number.isFinite(u) && u > 0 && u <= limits.maxTimeoutMs,
  (u, c) => (typeof u === 'number' && Number.isFinite(u) && u > 0 && u <= limits.maxTimeoutMs ? t.success(u)
    : t.failure(u, c, `expected a number of milliseconds from 1 to ${limits.maxTimeoutMs}, got ${showValue(u)}`)),
  t.identity,
)

const SignalCodec = new t.Type<AbortSignal, unknown, unknown>(
  'AbortSignal',
  (u): u is AbortSignal => typeof AbortSignal !== 'undefined' && u instanceof AbortSignal,
  (u, c) => (typeof AbortSignal !== 'undefined' && u instanceof AbortSignal ? t.success(u) : t.failure(u, c, `expected an AbortSignal, got ${showValue(u)}`)),
  t.identity,
)

/** Options every wrapper takes, as codecs (the types are in `common.ts` and `execute.ts`). */
const commonCodecs = {
  merge: t.string,
  outputKey: t.string,
  onView: FunctionCodec,
  backend: BackendCodec,
  budget: t.union([t.number, t.string]),
  maxBatch: t.number,
  batch: t.boolean,
  timeout: Milliseconds,
  modelTimeout: Milliseconds,
  signal: SignalCodec,
}

/**
 * Checks a wrapper's options from an untyped caller: the common ones plus `extra` (a wrapper's
 * own). Returns the same object when it is valid.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import * as t from 'io-ts'
 * import { wrap } from 'tta-lens'
 * assert.ok(E.isRight(wrap.decodeOptions({ merge: 'max', budget: '64MiB' })))
 * const cuda = wrap.decodeOptions({ backend: 'cuda' })
 * assert.ok(E.isLeft(cuda) && cuda.left.message === "options: backend: expected 'js', 'reference', 'gpujs' or a Backend object, got \"cuda\"")
 * const inches = wrap.decodeOptions({ coordinates: 'inches' }, { coordinates: t.keyof({ pixels: null, normalized: null }) })
 * assert.ok(E.isLeft(inches) && inches.left.message.startsWith('options: coordinates: expected "pixels" | "normalized"'))
 * @category constructors
 */
export const decodeOptions = <O>(options: O, extra: t.Props = {}): E.Either<ParamError | LimitError, O> => {
  const given: unknown = options
  if (given === undefined) return E.right(options)
  const decoded = decodeWith(strictObject('options', {}, { ...commonCodecs, ...extra }), given, 'options')
  if (E.isLeft(decoded)) return decoded
  const { budget, maxBatch } = decoded.right
  if (budget !== undefined) {
    const parsed = parseBudget(budget)
    if (E.isLeft(parsed)) return E.left(paramError(`options: budget: ${parsed.left.message}`))
  }
  if (maxBatch !== undefined) {
    const counted = checkCount('options: maxBatch', maxBatch, Number.MAX_SAFE_INTEGER)
    if (E.isLeft(counted)) return counted
  }
  return E.right(options)
}

/** Codecs of the keypoints wrapper's own options. @internal */
export const keypointOptionCodecs = { coordinates: t.keyof({ pixels: null, normalized: null }) }

/**
 * Codecs of the detection wrapper's own options (the fusion options themselves are checked by
 * `buildPlan`, with `boxes.parseFusionOptions`). @internal
 */
export const detectionOptionCodecs = {
  coordinates: t.keyof({ pixels: null, normalized: null }),
  fusion: t.unknown,
  cutBoxes: t.keyof({ keep: null, drop: null }),
  minScore: t.number,
  keepViews: t.boolean,
}

/** Codecs of the options classification and segmentation take beyond the common ones (`combine`, `uncertainty`). @internal */
export const measureOptionCodecs = {
  combine: t.partial({ probabilities: t.boolean, weights: t.readonlyArray(t.readonlyArray(t.number)) }),
  uncertainty: t.keyof({ logits: null, probabilities: null }),
}
