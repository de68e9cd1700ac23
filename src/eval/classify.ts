/**
 * Evaluating classification TTA policies on a labelled set, against the single pass: accuracy,
 * predictions fixed and broken, an exact McNemar test, and time per image. Used by the CLI's
 * `eval` and by the demo; every number is computed on the run, never stored.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, type TtaError } from '../errors.js'
import type { AnyFactor, Product } from '../algebra/product.js'
import { size } from '../algebra/product.js'
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
  const [n, c, h, w] = set.shape
  if (set.images.length !== n * c * h * w || set.labels.length !== n) {
    return E.left(shapeError(`a labelled set of [${set.shape.join(',')}] needs ${n * c * h * w} pixel values and ${n} labels, got ${set.images.length} and ${set.labels.length}`))
  }
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
    results.push({
      policy: policy.name, views: size(policy.product), correct, total: n, accuracy: correct / n,
      fixed, broken, p: mcnemar(fixed, broken), msPerImage: elapsed / n, predictions,
    })
  }
  return E.right(results)
}
