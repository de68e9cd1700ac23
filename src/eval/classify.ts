/**
 * Evaluating classification TTA policies on a labelled set, against the single pass: accuracy,
 * predictions fixed and broken, an exact McNemar test, and time per image. Used by the CLI's
 * `eval` and by the demo; every number is computed on the run, never stored.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, shapeError, type TtaError } from '../errors.js'
import type { AnyFactor, Product } from '../algebra/product.js'
import { checkProduct, size } from '../algebra/product.js'
import { checkFinite } from '../guard/finite.js'
import { checkElements } from '../guard/limits.js'
import { showValue } from '../guard/decode.js'
import { decodeOptions, FunctionCodec } from '../wrapper/options.js'
import * as t from 'io-ts'
import type { MergeMode } from '../merge/merge.js'
import { assumeShape } from '../tensor/trusted.js'
import type { Shape } from '../tensor/shape.js'
import { classification } from '../wrapper/classification.js'
import type { ExecutionOptions } from '../wrapper/execute.js'
import type { ModelOutput } from '../wrapper/model.js'
import { mcnemar } from './stats.js'

/** Images and their true classes, for {@link evaluateClassifier}. @category model */
export interface LabelledSet {
  /** `[N, C, H, W]` images, already preprocessed for the model. */
  readonly shape: readonly [number, number, number, number]
  readonly images: Float32Array
  readonly labels: ArrayLike<number>
}

/** One policy's score on a labelled set, compared with the first policy (usually no TTA). @category model */
export interface PolicyResult {
  readonly policy: string
  readonly views: number
  readonly correct: number
  readonly total: number
  readonly accuracy: number
  /** Wrong without TTA (the first policy), right with this one. */
  readonly fixed: number
  /** Right without TTA, wrong with this one. */
  readonly broken: number
  /** Exact two-sided McNemar p-value against the first policy. */
  readonly p: number
  readonly msPerImage: number
  readonly predictions: Int32Array
}

/**
 * Index of the largest value in each row of `[rows, classes]` scores (first on ties): the predicted
 * class of each image in a batch of scores.
 * @example
 * import { argmaxRows } from 'tta-lens'
 * const scores = Float32Array.of(
 *   0.1, 0.7, 0.2,   // image 0: class 1
 *   0.5, 0.5, 0,     // image 1: a tie, the first class wins
 * )
 * assert.deepStrictEqual(Array.from(argmaxRows(scores, 2)), [1, 0])
 * @category utils
 */
export const argmaxRows = (scores: Float32Array, rows: number): Int32Array => {
  const classes = scores.length / rows
  const out = new Int32Array(rows)
  for (let r = 0; r < rows; r++) {
    let best = 0
    for (let c = 1; c < classes; c++) if ((scores[r * classes + c] ?? -Infinity) > (scores[r * classes + best] ?? -Infinity)) best = c
    out[r] = best
  }
  return out
}

/**
 * Runs each policy over the set in batches and compares it with the first (give `none` first):
 * accuracy, predictions fixed and broken, and McNemar's p-value — whether TTA really helps this
 * model, measured rather than assumed.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, evaluateClassifier, identity, orThrow, tensor, type LabelledSet, type Tensor } from 'tta-lens'
 * // A "classifier" that answers "which pixel is brighter, left (0) or right (1)?": mirroring it
 * // averages the two answers away, and the tie goes to class 0.
 * const model = async (x: Tensor<readonly ['N', 1, 1, 2]>) => orThrow(tensor([x.shape[0], 2], x.data))
 * const set: LabelledSet = { shape: [2, 1, 1, 2], images: Float32Array.of(1, 0, 0, 1), labels: [0, 1] }
 * const results = await evaluateClassifier(model, set, [
 *   { name: 'none', product: identity },
 *   { name: 'hflip', product: aliases.hflip() },
 * ])
 * assert.ok(E.isRight(results))
 * assert.deepStrictEqual(results.right.map((r) => [r.policy, r.accuracy, r.broken]), [['none', 1, 0], ['hflip', 0.5, 1]])
 * @category evaluation
 */
export const evaluateClassifier = async (
  model: (batch: never, ...extra: never) => Promise<ModelOutput>,
  set: LabelledSet,
  policies: readonly { readonly name: string; readonly product: Product<readonly AnyFactor[]> }[],
  options: ExecutionOptions & { readonly merge?: MergeMode; readonly imagesPerRun?: number; readonly onProgress?: (policy: string, done: number, total: number) => void } = {},
): Promise<E.Either<TtaError, readonly PolicyResult[]>> => {
  const checked = checkEvaluation(set, policies, options)
  if (E.isLeft(checked)) return checked
  const [n, c, h, w] = set.shape
  const batch = Math.max(1, options.imagesPerRun ?? 500)
  const results: PolicyResult[] = []
  let baseline: Int32Array | undefined
  for (const policy of policies) {
    const { imagesPerRun: _perRun, onProgress, merge, ...execution } = options
    void _perRun
    const tta = classification(model, policy.product, { ...execution, ...(merge === undefined ? {} : { merge }) })
    const predictions = new Int32Array(n)
    const started = performance.now()
    for (let start = 0; start < n; start += batch) {
      const count = Math.min(batch, n - start)
      const images = assumeShape<Shape>([count, c, h, w], set.images.subarray(start * c * h * w, (start + count) * c * h * w))
      const scores = await tta.run(images)()
      if (E.isLeft(scores)) return scores
      predictions.set(argmaxRows(scores.right.data, count), start)
      onProgress?.(policy.name, start + count, n)
    }
    const elapsed = performance.now() - started
    let correct = 0
    let fixed = 0
    let broken = 0
    for (let i = 0; i < n; i++) {
      const right = predictions[i] === set.labels[i]
      if (right) correct++
      if (baseline !== undefined) {
        const before = baseline[i] === set.labels[i]
        if (right && !before) fixed++
        if (!right && before) broken++
      }
    }
    baseline ??= predictions
    const result: PolicyResult = {
      policy: policy.name, views: size(policy.product), correct, total: n, accuracy: correct / n,
      fixed, broken, p: mcnemar(fixed, broken), msPerImage: elapsed / n, predictions,
    }
    // The non-finite rule covers metrics too: no NaN% is ever reported as a score.
    const metrics = checkFinite([result.accuracy, result.p, result.msPerImage], `the metrics of policy '${policy.name}'`, ' (accuracy, p, ms/image)')
    if (E.isLeft(metrics)) return metrics
    results.push(result)
  }
  return E.right(results)
}

/** An array or a typed array as a plain list, or undefined for anything else. */
const listOf = (value: unknown): readonly unknown[] | undefined => {
  if (Array.isArray(value)) return value
  if (!ArrayBuffer.isView(value) || value instanceof DataView || !('length' in value) || typeof value.length !== 'number') return undefined
  return Array.from({ length: value.length }, (_, i): unknown => Reflect.get(value, i))
}

const isPositiveInteger = (d: unknown): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0

/** What an untyped caller can get wrong about an evaluation, checked before any model call. */
const checkEvaluation = (set: unknown, policies: unknown, options: unknown): E.Either<TtaError, void> => {
  if (typeof set !== 'object' || set === null || !('shape' in set) || !('images' in set) || !('labels' in set)) {
    return E.left(shapeError('a labelled set is { shape: [N, C, H, W], images: Float32Array, labels }'))
  }
  const { shape, images, labels } = set
  if (!Array.isArray(shape) || shape.length !== 4 || !shape.every(isPositiveInteger)) {
    const empty = Array.isArray(shape) && shape[0] === 0
    return E.left(shapeError(empty ? 'the labelled set is empty: no image to evaluate' : `a labelled set's shape must be [N, C, H, W] positive integers, got ${showValue(shape)}`))
  }
  const size = checkElements('the labelled set', shape)
  if (E.isLeft(size)) return size
  const [n = 0] = shape
  if (!(images instanceof Float32Array) || images.length !== size.right) {
    return E.left(shapeError(`a labelled set of [${shape.join(',')}] needs ${size.right} pixel values in a Float32Array, got ${images instanceof Float32Array ? images.length : showValue(images)}`))
  }
  const pixels = checkFinite(images, 'the labelled images')
  if (E.isLeft(pixels)) return pixels
  const list = listOf(labels)
  if (list === undefined || list.length !== n) {
    return E.left(shapeError(`a labelled set of ${n} images needs ${n} labels, got ${list === undefined ? showValue(labels) : list.length}`))
  }
  const bad = list.findIndex((l) => typeof l !== 'number' || !Number.isInteger(l) || l < 0)
  if (bad >= 0) return E.left(shapeError(`label ${bad} must be a class index (a non-negative integer)`))
  if (!Array.isArray(policies) || policies.length === 0) return E.left(paramError('policies must be a non-empty array of { name, product }'))
  for (const [i, policy] of policies.entries()) {
    if (typeof policy !== 'object' || policy === null || !('name' in policy) || typeof policy.name !== 'string' || !('product' in policy)) {
      return E.left(paramError(`policies[${i}] must be { name: string, product }`))
    }
    const p = checkProduct(policy.product)
    if (E.isLeft(p)) return E.left(p.left._tag === 'ParamError' ? paramError(`policies[${i}]: ${p.left.message}`) : p.left)
  }
  const decoded = decodeOptions(options, { imagesPerRun: t.number, onProgress: FunctionCodec })
  if (E.isLeft(decoded)) return decoded
  const perRun: unknown = typeof options === 'object' && options !== null && 'imagesPerRun' in options ? options.imagesPerRun : undefined
  if (perRun !== undefined && !isPositiveInteger(perRun)) return E.left(paramError(`options: imagesPerRun must be a positive integer, got ${showValue(perRun)}`))
  return E.right(undefined)
}
