/**
 * Merging the deaugmented predictions of all views, as streaming accumulators: each view is added
 * once and dropped, so memory does not grow with the number of views.
 *
 * - `mean`, `sum`, `max`, `min`: as in ttach.
 * - `gmean`: the geometric mean, computed in log space (no underflow with many views). Negative
 *   inputs are an error: ttach multiplies raw values and returns NaN or a flipped sign.
 * - `tsharpen`: ttach's definition, the mean of square roots (not squared back). Negative inputs
 *   are an error.
 * - `vote`: majority vote of the argmax class along axis 1 (axis 0 for rank-1 predictions). The
 *   result is one-hot. Ties go to the tied class with the largest summed score, then to the lowest
 *   class index.
 *
 * Laws (spec/laws/merge): merging n copies of x gives x for mean/gmean/max/min (one-hot(argmax x)
 * for vote, n·x for sum, √x for tsharpen); every mode is invariant to the order of the views.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { mergeError, shapeError, type AllocationError, type LimitError, type MergeError, type NonFiniteError, type ShapeError } from '../errors.js'
import { checkFinite } from '../guard/finite.js'
import { allocate, checkCount, limits } from '../guard/limits.js'
import { safeString, showValue } from '../guard/decode.js'
import type { Shape, ShapeFits, ShowShape } from '../tensor/shape.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'

/** How the views' predictions are combined into one: ttach's six modes plus a majority `vote` of the argmax class. @category model */
export type MergeMode = 'mean' | 'gmean' | 'sum' | 'max' | 'min' | 'tsharpen' | 'vote'

/**
 * Every merge mode, in a fixed order: for CLI help, option lists and loops that try each mode.
 * @example
 * import { mergeModes, parseMergeMode } from 'tta-lens'
 * assert.deepStrictEqual(mergeModes, ['mean', 'gmean', 'sum', 'max', 'min', 'tsharpen', 'vote'])
 * assert.ok(mergeModes.every((m) => parseMergeMode(m)._tag === 'Right'))
 * @category model
 */
export const mergeModes: readonly MergeMode[] = ['mean', 'gmean', 'sum', 'max', 'min', 'tsharpen', 'vote']

/**
 * Checks a merge mode that arrives as a string from untyped code (a CLI flag, a JSON config), with an
 * error that lists the valid modes.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { parseMergeMode } from 'tta-lens'
 * assert.deepStrictEqual(parseMergeMode('gmean'), E.right('gmean'))
 * const bad = parseMergeMode('median')
 * assert.ok(E.isLeft(bad) && bad.left._tag === 'MergeError' && bad.left.message.includes('mean, gmean'))
 * @category constructors
 */
export const parseMergeMode = (mode: unknown): E.Either<MergeError, MergeMode> => {
  const found = mergeModes.find((m) => m === mode)
  return found === undefined
    ? E.left(mergeError(`unknown merge mode ${typeof mode === 'string' ? `'${mode}'` : safeString(mode)}; use one of ${mergeModes.join(', ')}`))
    : E.right(found)
}

/** `Float32Array.from(acc, f)` as a plain loop: the generic iteration path is ~30× slower on large merges. */
const mapped = (acc: Float64Array, f: (v: number) => number): Float32Array => {
  const out = new Float32Array(acc.length)
  for (let i = 0; i < acc.length; i++) out[i] = f(acc[i] ?? Number.NaN)
  return out
}

/**
 * Why a merge failed: values it cannot combine (MergeError), a non-finite value in a view or in the
 * result (NonFiniteError), a size that cannot be held (LimitError, AllocationError) or a bad shape.
 * @category errors
 */
export type MergeFailure = MergeError | NonFiniteError | ShapeError | LimitError | AllocationError

/** A running merge over views of `size` values each. @category model */
export interface Accumulator {
  /** Adds one view; fails without changing the state if the view is not mergeable. */
  readonly add: (view: Float32Array | Float64Array) => E.Either<MergeFailure, void>
  /** The merged values; fails when no view was added, or when a value does not fit a float32 (a sum past 3.4e38). */
  readonly result: () => E.Either<MergeFailure, Float32Array>
  readonly count: () => number
}

const firstBad = (view: Float32Array | Float64Array, bad: (v: number) => boolean): number => view.findIndex(bad)

/** An accumulator that was asked for with arguments it cannot honour: every call says why. */
const refused = (error: MergeFailure): Accumulator => ({ add: () => E.left(error), result: () => E.left(error), count: () => 0 })

const checkLayout = (size: number, layout: unknown): E.Either<MergeError, { outer: number; classes: number; inner: number }> => {
  if (typeof layout !== 'object' || layout === null) return E.left(mergeError(`a vote layout must be { outer, classes, inner }, got ${showValue(layout)}`))
  const part = (key: 'outer' | 'classes' | 'inner'): number => {
    const v: unknown = Object.entries(layout).find(([k]) => k === key)?.[1]
    return typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : Number.NaN
  }
  const [outer, classes, inner] = [part('outer'), part('classes'), part('inner')]
  return outer * classes * inner === size ? E.right({ outer, classes, inner })
    : E.left(mergeError(`a vote layout of ${outer} × ${classes} × ${inner} does not cover ${size} values`))
}

/**
 * A streaming accumulator. `layout` places the class axis for `vote`: `outer` blocks of `classes`
 * rows of `inner` values. Use it to merge predictions you produce one at a time (your own loop over
 * views) without holding them all.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { accumulator } from 'tta-lens'
 * const acc = accumulator('mean', 2)
 * assert.ok(E.isRight(acc.add(Float32Array.of(1, 2))) && E.isRight(acc.add(Float32Array.of(3, 6))))
 * assert.deepStrictEqual(acc.result(), E.right(Float32Array.of(2, 4)))
 * assert.ok(E.isLeft(acc.add(Float32Array.of(1))))   // wrong length: refused, state unchanged
 * assert.strictEqual(acc.count(), 2)
 * @category constructors
 */
export const accumulator = (
  mode: MergeMode,
  size: number,
  layout: { readonly outer: number; readonly classes: number; readonly inner: number } = { outer: 1, classes: size, inner: 1 },
): Accumulator => {
  // Arguments from untyped code are checked here, and a refusal is returned by every call.
  const known = parseMergeMode(mode)
  if (E.isLeft(known)) return refused(known.left)
  const counted = checkCount('the merge size', size, limits.maxElements)
  if (E.isLeft(counted)) return refused(counted.left._tag === 'LimitError' ? counted.left : mergeError(counted.left.message))
  const shape = mode === 'vote' ? checkLayout(size, layout) : E.right(layout)
  if (E.isLeft(shape)) return refused(shape.left)
  const buffers = E.flatMap(allocate(Float64Array, size, 'the merge'), (a) =>
    E.Functor.map(mode === 'vote' ? allocate(Float64Array, size, 'the vote counts') : E.right(undefined), (v) => [a, v] as const))
  if (E.isLeft(buffers)) return refused(buffers.left)
  const [acc, votes] = buffers.right
  let n = 0
  const check = (view: Float32Array | Float64Array): E.Either<MergeFailure, void> => {
    if (!(view instanceof Float32Array) && !(view instanceof Float64Array)) return E.left(shapeError(`view ${n} must be a Float32Array, got ${showValue(view)}`))
    if (view.length !== size) return E.left(mergeError(`view ${n} has ${view.length} values but the merge holds ${size}`))
    const finite = checkFinite(view, `view ${n}`)
    if (E.isLeft(finite)) return finite
    if (mode === 'gmean' || mode === 'tsharpen') {
      const neg = firstBad(view, (v) => v < 0)
      if (neg >= 0) {
        return E.left(mergeError(`${mode} needs non-negative values, but view ${n} has ${view[neg]} at index ${neg} ` +
          `(ttach would return NaN or a flipped sign here; use 'mean', or merge probabilities instead of logits)`))
      }
    }
    return E.right(undefined)
  }
  const add = (view: Float32Array | Float64Array): E.Either<MergeFailure, void> => {
    const ok = check(view)
    if (E.isLeft(ok)) return ok
    switch (mode) {
      case 'mean':
      case 'sum':
        for (let i = 0; i < size; i++) acc[i] = (acc[i] ?? 0) + (view[i] ?? 0)
        break
      case 'gmean':
        for (let i = 0; i < size; i++) acc[i] = (acc[i] ?? 0) + Math.log(view[i] ?? 0)
        break
      case 'tsharpen':
        for (let i = 0; i < size; i++) acc[i] = (acc[i] ?? 0) + Math.sqrt(view[i] ?? 0)
        break
      case 'max':
        for (let i = 0; i < size; i++) acc[i] = n === 0 ? (view[i] ?? 0) : Math.max(acc[i] ?? 0, view[i] ?? 0)
        break
      case 'min':
        for (let i = 0; i < size; i++) acc[i] = n === 0 ? (view[i] ?? 0) : Math.min(acc[i] ?? 0, view[i] ?? 0)
        break
      case 'vote': {
        const { outer, classes, inner } = shape.right
        for (let o = 0; o < outer; o++) {
          for (let p = 0; p < inner; p++) {
            let best = 0
            for (let c = 1; c < classes; c++) {
              if ((view[(o * classes + c) * inner + p] ?? 0) > (view[(o * classes + best) * inner + p] ?? 0)) best = c
            }
            const at = (o * classes + best) * inner + p
            if (votes !== undefined) votes[at] = (votes[at] ?? 0) + 1
            for (let c = 0; c < classes; c++) {
              const k = (o * classes + c) * inner + p
              acc[k] = (acc[k] ?? 0) + (view[k] ?? 0)
            }
          }
        }
        break
      }
    }
    n++
    return E.right(undefined)
  }
  const result = (): E.Either<MergeFailure, Float32Array> => {
    if (n === 0) return E.left(mergeError('nothing to merge: no view was added'))
    const merged = combined()
    return E.Functor.map(checkFinite(merged, 'merged result', ' (beyond the float32 range)'), () => merged)
  }
  const combined = (): Float32Array => {
    switch (mode) {
      case 'mean':
      case 'tsharpen':
        return mapped(acc, (v) => v / n)
      case 'gmean':
        return mapped(acc, (v) => Math.exp(v / n))
      case 'sum':
      case 'max':
      case 'min':
        return Float32Array.from(acc)
      case 'vote': {
        const out = new Float32Array(size)
        const { outer, classes, inner } = shape.right
        for (let o = 0; o < outer; o++) {
          for (let p = 0; p < inner; p++) {
            let best = 0
            for (let c = 1; c < classes; c++) {
              const k = (o * classes + c) * inner + p
              const b = (o * classes + best) * inner + p
              const more = (votes?.[k] ?? 0) - (votes?.[b] ?? 0)
              if (more > 0 || (more === 0 && (acc[k] ?? 0) > (acc[b] ?? 0))) best = c
            }
            out[(o * classes + best) * inner + p] = 1
          }
        }
        return out
      }
    }
  }
  return { add, result, count: () => n }
}

/**
 * The class-axis layout used by `vote` for a prediction of this shape: axis 1 holds the classes
 * (axis 0 for rank 1). Pass it to {@link accumulator} when voting yourself.
 * @example
 * import { voteLayout } from 'tta-lens'
 * assert.deepStrictEqual(voteLayout([2, 10]), { outer: 2, classes: 10, inner: 1 })        // [N, classes]
 * assert.deepStrictEqual(voteLayout([1, 3, 4, 4]), { outer: 1, classes: 3, inner: 16 })   // [N, K, H, W]
 * assert.deepStrictEqual(voteLayout([5]), { outer: 1, classes: 5, inner: 1 })
 * @category utils
 */
export const voteLayout = (shape: readonly number[]): { outer: number; classes: number; inner: number } => {
  if (shape.length < 2) return { outer: 1, classes: shape[0] ?? 1, inner: 1 }
  const [outer = 1, classes = 1, ...rest] = shape
  return { outer, classes, inner: rest.reduce((a, d) => a * d, 1) }
}

type ShapeOf<T> = T extends Tensor<infer S> ? S : never

const isTensorLike = (t: unknown): boolean =>
  typeof t === 'object' && t !== null && 'shape' in t && 'data' in t && Array.isArray(t.shape) && t.data instanceof Float32Array &&
  t.shape.every((d: unknown) => typeof d === 'number' && Number.isInteger(d) && d > 0) &&
  t.shape.reduce((a: number, d: number) => a * d, 1) === t.data.length
/** The shapes among `R` that cannot be `F`'s (an untracked `number` dim could be anything). */
type Unlike<F extends Shape, R> = R extends Shape ? (ShapeFits<R, F> extends true ? (ShapeFits<F, R> extends true ? never : R) : R) : never
/**
 * `unknown` when all tensors may have the first one's shape, else an error naming both shapes: how
 * {@link merge} rejects a mismatch at compile time.
 * @example
 * import type { CheckSameShapes, Tensor } from 'tta-lens'
 * const ok: CheckSameShapes<readonly [Tensor<readonly [1, 10]>, Tensor<readonly [1, 10]>]> = 'no error'
 * const bad: CheckSameShapes<readonly [Tensor<readonly [1, 10]>, Tensor<readonly [1, 5]>]> =
 *   { error: 'cannot merge tensors of different shapes: [1,10] and [1,5]' }
 * assert.strictEqual(ok, 'no error')
 * assert.match(bad.error, /\[1,5\]/)
 * @category type-level
 */
export type CheckSameShapes<T extends readonly Tensor<Shape>[]> = T extends readonly [infer F, ...infer R]
  ? [Unlike<ShapeOf<F>, ShapeOf<R[number]>>] extends [never]
    ? unknown
    : { readonly error: `cannot merge tensors of different shapes: ${ShowShape<ShapeOf<F>>} and ${ShowShape<Unlike<ShapeOf<F>, ShapeOf<R[number]>>>}` }
  : unknown

/**
 * Merges tensors of one shape with a mode.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { merge, orThrow, tensor } from 'tta-lens'
 * const a = orThrow(tensor([2], [1, 4])), b = orThrow(tensor([2], [1, 1]))
 * const g = merge('gmean', [a, b])
 * assert.ok(E.isRight(g) && g.right.data[1] === 2)
 * @category combinators
 */
export const merge = <const T extends readonly [Tensor<Shape>, ...Tensor<Shape>[]]>(
  mode: MergeMode,
  tensors: T & CheckSameShapes<T>,
): E.Either<MergeFailure, Tensor<ShapeOf<T[0]>>> => {
  // A mode from untyped code ('median') is a MergeError, not a TypeError from an unknown accumulator.
  const known = parseMergeMode(mode)
  if (E.isLeft(known)) return known
  const given: unknown = tensors
  if (!Array.isArray(given)) return E.left(mergeError(`merge takes an array of tensors, got ${showValue(given)}`))
  const list: readonly Tensor<Shape>[] = tensors
  const notTensor = list.findIndex((t) => !isTensorLike(t))
  if (notTensor >= 0) return E.left(shapeError(`tensors[${notTensor}] is not a tensor {shape, data: Float32Array} whose data fills its shape`))
  const [first] = list
  if (first === undefined) return E.left(mergeError('nothing to merge: no tensor given'))
  const shape: readonly number[] = first.shape
  const other = list.find((t) => t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i]))
  if (other !== undefined) return E.left(shapeError(`cannot merge tensors of different shapes: [${shape.join(',')}] and [${other.shape.join(',')}]`))
  const acc = accumulator(mode, first.data.length, voteLayout(shape))
  for (const t of list) {
    const added = acc.add(t.data)
    if (E.isLeft(added)) return added
  }
  return E.Functor.map(acc.result(), (data) => assumeShape<ShapeOf<T[0]>>(shape, data))
}
