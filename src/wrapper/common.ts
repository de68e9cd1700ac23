/**
 * Types and checks shared by the three wrappers.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, shapeError, type LimitError, type ParamError, type ShapeError } from '../errors.js'
import { checkProduct, views, type AnyFactor, type BlockerOf, type CommonUndo, type Product, type ViewSpec } from '../algebra/product.js'
import { checkElements } from '../guard/limits.js'
import type { Target } from '../transform/factor.js'
import { parseMergeMode, type MergeMode } from '../merge/merge.js'
import type { Shape, ShowShape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/trusted.js'
import type { ModelInput, ModelTensor, RawTensor } from './model.js'
import type { ExecutionOptions } from './execute.js'
import type { ViewPreparation } from '../merge/prepare.js'
import type { ScoreKind, SpreadMeasures } from '../merge/spread.js'

type Word<T extends Target> = T extends 'mask' ? 'a mask' : T extends 'keypoints' ? 'keypoints' : T extends 'boxes' ? 'boxes' : 'labels'

/**
 * `unknown` when every factor can undo `T`, else an error naming the factor that cannot: why
 * `wrap.segmentation(model, aliases.tenCrop(…))` does not compile.
 * @example
 * import type { transforms, wrap } from 'tta-lens'
 * const ok: wrap.CheckUndo<readonly [transforms.HorizontalFlip], 'mask'> = 'no error'
 * const bad: wrap.CheckUndo<readonly [transforms.HorizontalFlip, transforms.FiveCrops<4, 4>], 'mask'> =
 *   { error: 'FiveCrops cannot put a mask back into the full frame' }
 * assert.strictEqual(ok, 'no error')
 * assert.match(bad.error, /^FiveCrops/)
 * @category type-level
 */
export type CheckUndo<Fs extends readonly AnyFactor[], T extends Target> = T extends CommonUndo<Fs>
  ? unknown
  : { readonly error: `${BlockerOf<Fs, T>} cannot put ${Word<T>} back into the full frame` }

/**
 * Two dims that must be the same size: two literals must be equal, two names the same name; a name
 * against a literal, or an untracked `number`, cannot be refuted at compile time (as a name in a
 * model's input accepts any size).
 */
type SameDim<A, B> = number extends A ? true : number extends B ? true
  : [A, B] extends [number, number] | [string, string] ? ([A] extends [B] ? ([B] extends [A] ? true : false) : false)
    : true

/** The declared output shape of a model (after `outputKey`), or `never` when it is not a tensor type. */
type OutputShape<M, Key> = [ModelTensor<M, Key>] extends [never] ? never : ModelTensor<M, Key> extends Tensor<infer O> ? O : never

/**
 * `unknown` when a segmentation model's declared output is masks in its input's frame —
 * `[N, K, H, W]` with the input's H and W (equal literals or the same names) — else an error that
 * says what it returns: why a classifier's `[N, 10]` or a stride-2 head's `[N, 2, 16, 16]` for a
 * 32×32 input does not compile with `wrap.segmentation`. A name against a literal, untracked
 * (`number`) dims and undeclared shapes are left to run time.
 * @example
 * import type { Tensor, wrap } from 'tta-lens'
 * type Unet = (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 2, 'H', 'W']>>
 * type Classifier = (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 10]>>
 * type Strided = (x: Tensor<readonly ['N', 3, 32, 32]>) => Promise<Tensor<readonly ['N', 2, 16, 16]>>
 * const ok: wrap.CheckSegmenter<Unet, never> = 'no error'
 * const labels: wrap.CheckSegmenter<Classifier, never> = { error: 'a segmentation model must return masks [N,K,H,W], but this model returns [N,10]' }
 * const strided: wrap.CheckSegmenter<Strided, never> = {
 *   error: 'a segmentation model must return masks the size of its input, but this model takes [N,3,32,32] and returns [N,2,16,16] (resize its output to its input)',
 * }
 * assert.strictEqual(ok, 'no error')
 * assert.match(labels.error + strided.error, /\[N,10\].*\[N,2,16,16\]/)
 * @category type-level
 */
export type CheckSegmenter<M, Key> = MaskOutputFits<ModelInput<M>, OutputShape<M, Key>>
type MaskOutputFits<In extends Shape, Out extends Shape> = [Out] extends [never] ? unknown
  : number extends Out['length'] ? unknown
    : Out extends readonly [unknown, unknown, infer OH, infer OW]
      ? In extends readonly [unknown, unknown, infer IH, infer IW]
        ? [SameDim<IH, OH>, SameDim<IW, OW>] extends [true, true]
          ? unknown
          : { readonly error: `a segmentation model must return masks the size of its input, but this model takes ${ShowShape<In>} and returns ${ShowShape<Out>} (resize its output to its input)` }
        : unknown
      : { readonly error: `a segmentation model must return masks [N,K,H,W], but this model returns ${ShowShape<Out>}` }

/**
 * `unknown` when a keypoint model's declared output is `[N, 2K]` — (x, y) pairs, so an even
 * literal or an untracked size — else an error that says what it returns.
 * @example
 * import type { Tensor, wrap } from 'tta-lens'
 * type Pointer = (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 10]>>
 * type Odd = (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 5]>>
 * const ok: wrap.CheckPointer<Pointer, never> = 'no error'
 * const odd: wrap.CheckPointer<Odd, never> = { error: 'a keypoint model must return [N,2K] (x, y pairs), but this model returns [N,5]' }
 * assert.strictEqual(ok, 'no error')
 * assert.match(odd.error, /\[N,5\]/)
 * @category type-level
 */
export type CheckPointer<M, Key> = PointsOutputFits<OutputShape<M, Key>>
type PointsOutputFits<Out extends Shape> = [Out] extends [never] ? unknown
  : number extends Out['length'] ? unknown
    // A union of declared outputs passes when one of them can be [N, 2K].
    : [PointsMisfit<Out>] extends [true]
      ? { readonly error: `a keypoint model must return [N,2K] (x, y pairs), but this model returns ${ShowShape<Out>}` }
      : unknown
type PointsMisfit<Out extends Shape> = Out extends readonly [unknown, infer P]
  ? (P extends number ? (number extends P ? false : `${P}` extends `${string}${1 | 3 | 5 | 7 | 9}` ? true : false) : false)
  : number extends Out['length'] ? false : true

/** Options every wrapper takes. @category model */
export interface WrapOptions<Mode extends MergeMode, Key extends string> {
  /** Default `'mean'`. */
  readonly merge?: Mode
  /** Picks one tensor when the model returns a record (ttach's `output_*_key`). */
  readonly outputKey?: Key
  /** Called after each view with (views done, views in all). */
  readonly onView?: (done: number, total: number) => void
}

/**
 * What classification and segmentation wrappers take besides the common options: a preparation of
 * each view before the merge, and uncertainty measures streamed from the same pass.
 * @category model
 */
export interface MeasureOptions<U extends ScoreKind | undefined> {
  /**
   * Prepare each view before the merge: `probabilities: true` merges class probabilities (softmax
   * along the class axis, a sigmoid for one channel) instead of the model's scores; `weights` gives
   * one row per view (`[w]`, or one weight per class). With `merge: 'sum'` and weights summing to 1
   * that is a weighted mean — what a searched policy's fitted merge runs.
   */
  readonly combine?: ViewPreparation
  /**
   * Ask for uncertainty from the same pass — entropy, mutual information, variance and agreement
   * across views, per input (classification) or per pixel (segmentation) — saying what the model
   * returns: `'logits'` or `'probabilities'`. The result becomes `{ prediction, uncertainty }`.
   */
  readonly uncertainty?: U
}

/** Everything a wrapper accepts. @category model */
export type WrapperOptions<Mode extends MergeMode, Key extends string, U extends ScoreKind | undefined = undefined> =
  WrapOptions<Mode, Key> & ExecutionOptions & MeasureOptions<U>

/** A prediction with the uncertainty measures of the same pass, each a tensor of shape `S` (the prediction's shape without its class axis). @category model */
export interface WithUncertainty<P, S extends Shape> {
  readonly prediction: P
  readonly uncertainty: SpreadMeasures<Tensor<S>>
}

/**
 * What a wrapper's `run` gives: the prediction alone, or with its uncertainty when the
 * `uncertainty` option was set (either when the option's type does not say).
 * @example
 * import type { Tensor, wrap } from 'tta-lens'
 * type Plain = wrap.Outcome<undefined, Tensor<readonly [1, 10]>, readonly [1]>
 * type Measured = wrap.Outcome<'logits', Tensor<readonly [1, 10]>, readonly [1]>
 * const plain: Plain['shape'] = [1, 10]
 * const measured: Measured['uncertainty']['entropy']['shape'] = [1]
 * assert.deepStrictEqual([plain, measured], [[1, 10], [1]])
 * @category type-level
 */
export type Outcome<U, P, S extends Shape> = [U] extends [undefined] ? P : [U] extends [ScoreKind] ? WithUncertainty<P, S> : P | WithUncertainty<P, S>

/**
 * The views of a product, or none for a value that is not one or has too many views (reported by
 * {@link checkSetup} at run time): counted before they are enumerated. @internal
 */
export const viewsOrNone = (transforms: unknown): readonly ViewSpec[] => {
  const p = checkProduct(transforms)
  return E.isRight(p) ? views(p.right) : []
}

/** Run-time checks for callers without types: a real product and a known merge mode. @internal */
export const checkSetup = (transforms: Product<readonly AnyFactor[]>, merge: unknown, allowed: readonly MergeMode[]): E.Either<ParamError | LimitError, MergeMode> => {
  const p = checkProduct(transforms)
  if (E.isLeft(p)) return p
  const mode = parseMergeMode(merge ?? 'mean')
  if (E.isLeft(mode)) return E.left(paramError(mode.left.message))
  return allowed.includes(mode.right) ? E.right(mode.right) : E.left(paramError(`merge mode '${mode.right}' does not apply here; use one of ${allowed.join(', ')}`))
}

/** The image as NCHW, or why not. @internal */
export const imageOf = (image: Tensor<Shape>): E.Either<ShapeError | LimitError, RawTensor> => {
  const given: unknown = image
  if (typeof given !== 'object' || given === null || !('shape' in given) || !Array.isArray(given.shape) || !('data' in given) || !(given.data instanceof Float32Array)) {
    return E.left(shapeError('the image must be a tensor {shape, data: Float32Array}'))
  }
  const shape: readonly unknown[] = given.shape
  if (shape.length !== 4) return E.left(shapeError(`the image must be NCHW (rank 4) but has shape [${shape.map(String).join(',')}]`))
  const dims = shape.filter((d): d is number => typeof d === 'number' && Number.isInteger(d) && d > 0)
  if (dims.length !== 4) return E.left(shapeError(`every dimension of the image must be a positive integer, got [${shape.map(String).join(',')}]`))
  const size = checkElements('the image', dims)
  if (E.isLeft(size)) return size
  // From plain JavaScript nothing ties `data` to `shape`: a short buffer would read made-up values.
  if (given.data.length !== size.right) return E.left(shapeError(`an image of shape [${dims.join(',')}] needs ${size.right} values but data has ${given.data.length}`))
  return E.right({ shape: dims, data: given.data })
}
