/**
 * Types and checks shared by the three wrappers.
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, shapeError, type ParamError, type ShapeError } from '../errors.js'
import { views, type AnyFactor, type BlockerOf, type CommonUndo, type Product, type ViewSpec } from '../algebra/product.js'
import type { Target } from '../transform/factor.js'
import { parseMergeMode, type MergeMode } from '../merge/merge.js'
import type { Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/trusted.js'
import type { RawTensor } from './model.js'
import type { ExecutionOptions } from './execute.js'

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

/** Options every wrapper takes. @category model */
export interface WrapOptions<Mode extends MergeMode, Key extends string> {
  /** Default `'mean'`. */
  readonly merge?: Mode
  /** Picks one tensor when the model returns a record (ttach's `output_*_key`). */
  readonly outputKey?: Key
  /** Called after each view with (views done, views in all). */
  readonly onView?: (done: number, total: number) => void
}

/** Everything a wrapper accepts. @category model */
export type WrapperOptions<Mode extends MergeMode, Key extends string> = WrapOptions<Mode, Key> & ExecutionOptions

const isProduct = (value: unknown): value is Product<readonly AnyFactor[]> =>
  typeof value === 'object' && value !== null && '_tag' in value && value._tag === 'Product' && 'factors' in value && Array.isArray(value.factors)

/** The views of a product, or none for a value that is not one (reported by {@link checkSetup} at run time). @internal */
export const viewsOrNone = (transforms: unknown): readonly ViewSpec[] => (isProduct(transforms) ? views(transforms) : [])

/** Run-time checks for callers without types: a real product and a known merge mode. @internal */
export const checkSetup = (transforms: Product<readonly AnyFactor[]>, merge: unknown, allowed: readonly MergeMode[]): E.Either<ParamError, MergeMode> => {
  if (!isProduct(transforms)) {
    return E.left(paramError('transforms must be a product of factors (see `product` and `aliases`)'))
  }
  const mode = parseMergeMode(merge ?? 'mean')
  if (E.isLeft(mode)) return E.left(paramError(mode.left.message))
  return allowed.includes(mode.right) ? E.right(mode.right) : E.left(paramError(`merge mode '${mode.right}' does not apply here; use one of ${allowed.join(', ')}`))
}

/** The image as NCHW, or why not. @internal */
export const imageOf = (image: Tensor<Shape>): E.Either<ShapeError, RawTensor> =>
  typeof image !== 'object' || image === null || !Array.isArray(image.shape) || !(image.data instanceof Float32Array)
    ? E.left(shapeError('the image must be a tensor {shape, data: Float32Array}'))
    : image.shape.length !== 4
      ? E.left(shapeError(`the image must be NCHW (rank 4) but has shape [${image.shape.join(',')}]`))
      : E.right({ shape: image.shape, data: image.data })
