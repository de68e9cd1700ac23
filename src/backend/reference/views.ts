/**
 * Runnable views on the reference backend — ttach's per-transform API (`augment_image`,
 * `deaugment_mask`, `deaugment_label`, `deaugment_keypoints`, plus `deaugmentBoxes`) for users who
 * drive their own model. The methods a product cannot honour are absent from its view type: the
 * views of a product with FiveCrops have no `deaugmentMask`.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { boxError, paramError, shapeError, type BoxError, type ParamError, type ShapeError, type UndoError } from '../../errors.js'
import { checkElements } from '../../guard/limits.js'
import { checkTensor, type TensorError } from '../../tensor/tensor.js'
import { views as viewSpecs, type AnyFactor, type CommonUndo, type Product, type ViewShapes, type ViewSpec } from '../../algebra/product.js'
import { checkDetections, type Box, type Coordinates, type Detections } from '../../boxes/detections.js'
import { boxMaps, clipBox, cutSides } from '../../transform/box-map.js'
import { chainSizes, resolveAugment, resolveUndoMask, undoPoint } from '../../transform/step.js'
import type { CheckRank, ImageShape, Shape } from '../../tensor/shape.js'
import { assumeShape, type Tensor } from '../../tensor/trusted.js'
import { runStages } from './execute.js'

const rank4 = (what: string, shape: readonly number[]): E.Either<ShapeError, readonly [number, number, number, number]> => {
  const [n, c, h, w] = shape
  return shape.length === 4 && n !== undefined && c !== undefined && h !== undefined && w !== undefined
    ? E.right([n, c, h, w])
    : E.left(shapeError(`${what} must be NCHW (rank 4) but has shape [${shape.join(',')}]`))
}

/** Every plane stack a chain makes for `planes` planes of `height`×`width`, checked against the element limit before any is allocated. */
const checkChain = (spec: ViewSpec, planes: number, height: number, width: number): E.Either<ShapeError | TensorError, void> =>
  E.flatMap(chainSizes(spec.steps, height, width), (sizes) => {
    for (const [h, w] of sizes) {
      const checked = checkElements(`a buffer of view '${spec.name}'`, [planes, h, w])
      if (E.isLeft(checked)) return checked
    }
    return E.right(undefined)
  })

/** Untyped core: augment an NCHW tensor through a view. @category execution */
export const augmentImageData = (spec: ViewSpec, shape: readonly number[], data: Float32Array): E.Either<ShapeError | TensorError, { shape: readonly number[]; data: Float32Array }> =>
  E.flatMap(rank4('the image', shape), ([n, c, h, w]) => E.flatMap(checkChain(spec, n * c, h, w), () =>
    E.Functor.map(resolveAugment(spec.steps, h, w), (stages) => {
      const out = runStages({ data, planes: n * c, height: h, width: w }, stages)
      // The identity view must not hand the caller's own buffer to a model that may write into it.
      return { shape: [n, c, out.height, out.width], data: out.data === data ? data.slice() : out.data }
    })))

/** The (height, width) a view makes from an input of (height, width). @category execution */
export const viewSize = (spec: ViewSpec, height: number, width: number): E.Either<ShapeError, readonly [number, number]> =>
  E.Functor.map(chainSizes(spec.steps, height, width), (sizes) => sizes[sizes.length - 1] ?? [height, width])

/** Untyped core: bring a mask predicted on the view back to an input of `height`×`width`. @category execution */
export const deaugmentMaskData = (spec: ViewSpec, shape: readonly number[], data: Float32Array, height: number, width: number): E.Either<ShapeError | UndoError | TensorError, { shape: readonly number[]; data: Float32Array }> =>
  E.flatMap(rank4('the mask', shape), ([n, k, mh, mw]) => E.flatMap(checkChain(spec, n * k, height, width), () =>
    E.flatMap(viewSize(spec, height, width), ([vh, vw]) =>
      vh !== mh || vw !== mw
        ? E.left(shapeError(`view '${spec.name}' of a ${height}x${width} image is ${vh}x${vw}, but the mask is ${mh}x${mw}`))
        : E.Functor.map(resolveUndoMask(spec.steps, height, width), (stages) => {
          const out = runStages({ data, planes: n * k, height: mh, width: mw }, stages)
          return { shape: [n, k, out.height, out.width], data: out.data }
        }))))

/** Untyped core: keypoints `[..., 2]` as normalised (x, y), back into the input frame. @category execution */
export const deaugmentKeypointsData = (spec: ViewSpec, shape: readonly number[], data: Float32Array, height?: number, width?: number): E.Either<ShapeError | UndoError, Float32Array> => {
  if (shape.length < 1 || shape[shape.length - 1] !== 2) {
    return E.left(shapeError(`keypoints must end in a dimension of 2 (x, y) but have shape [${shape.join(',')}]`))
  }
  const sizes = height === undefined || width === undefined ? E.right(undefined) : chainSizes(spec.steps, height, width)
  if (E.isLeft(sizes)) return sizes
  return E.Functor.map(undoPoint(spec.steps, sizes.right), (move) => {
    const out = new Float32Array(data.length)
    for (let p = 0; p < data.length; p += 2) {
      const [x, y] = move(data[p] ?? Number.NaN, data[p + 1] ?? Number.NaN)
      out[p] = x
      out[p + 1] = y
    }
    return out
  })
}

/**
 * How a view's boxes come back (see {@link deaugmentBoxesData}).
 * @example
 * import type { BoxUndoOptions } from 'tta-lens'
 * const tiled: BoxUndoOptions = { coordinates: 'normalized', cutBoxes: 'drop' }
 * assert.strictEqual(tiled.cutBoxes, 'drop')
 * @category model
 */
export interface BoxUndoOptions {
  /** The model's coordinates: pixels of the view it saw (default), or normalised to [0, 1] of it. The boxes come back in the same system, of the input. */
  readonly coordinates?: Coordinates
  /**
   * Boxes that touch a border of the view lying inside the input (a tile's or crop's inner edge,
   * the edge a shift pushed content over) were probably cut there: `'keep'` them as seen (default),
   * or `'drop'` them — right for tiles that overlap by more than an object, whose neighbour sees it whole.
   */
  readonly cutBoxes?: 'keep' | 'drop'
  /** Names the source in errors; default `view '<name>'`. */
  readonly where?: string
}

/** A normalised box must lie within a whole frame of [0, 1]; further out, it was surely in pixels. */
const NORMALISED_MARGIN = 1

/**
 * Untyped core: detections found on the view, back into the frame of an input of
 * `height`×`width`. Each box's corners are mapped back through the view's steps (see
 * `transform/box-map`) and re-ordered, so `x1 ≤ x2` and `y1 ≤ y2`; then the box is clipped to the
 * view's visible window (the part of the input it shows: the whole frame for flips, turns and
 * scales; a crop's or tile's window; the part a shift kept). A box wholly outside the window — in
 * the fill a shift brought in — is dropped, and so are cut boxes with `cutBoxes: 'drop'` (a side
 * within one view pixel of an inner border). Scores and labels travel with their boxes.
 *
 * In `'normalized'` coordinates a value outside [−1, 2] is a `BoxError` (those are pixels).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, deaugmentBoxesData, views } from 'tta-lens'
 * const [, mirror] = views(aliases.hflip())
 * const back = deaugmentBoxesData(mirror!, { boxes: [[0, 1, 2, 3]], scores: [0.9], labels: [4] }, 4, 6)
 * assert.deepStrictEqual(back, E.right({ boxes: [[4, 1, 6, 3]], scores: [0.9], labels: [4] }))
 * @category execution
 */
export const deaugmentBoxesData = (
  spec: ViewSpec,
  detections: Detections,
  height: number,
  width: number,
  options: BoxUndoOptions = {},
): E.Either<ShapeError | UndoError | BoxError | ParamError, Detections> => {
  const where = options.where ?? `view '${spec.name}'`
  const normalised = (options.coordinates ?? 'pixels') === 'normalized'
  return E.flatMap(boxMaps(spec.steps, height, width), (maps) => {
    const [vh, vw] = maps.view
    const unit = maps.undo([0, 0, 1, 1])
    // One view pixel, in input pixels along each axis: how close to a border counts as touching it.
    const tolerance = Math.max(unit[2] - unit[0], unit[3] - unit[1]) * (1 + 1e-9)
    const boxes: Box[] = []
    const scores: number[] = []
    const labels: number[] = []
    for (const [i, box] of detections.boxes.entries()) {
      if (normalised && box.some((v) => v < -NORMALISED_MARGIN || v > 1 + NORMALISED_MARGIN)) {
        return E.left(boxError(`${where}: box ${i} is [${box.join(', ')}], but the model's coordinates are 'normalized' (fractions of the view, within [0, 1]); pass coordinates: 'pixels' if they are pixels`))
      }
      const [x1, y1, x2, y2] = box
      const pixels: Box = normalised ? [x1 * vw, y1 * vh, x2 * vw, y2 * vh] : box
      let back: Box
      try {
        back = maps.undo(pixels)
      } catch (e) {
        return E.left(paramError(`${where}: a custom point map failed on box ${i}: ${e instanceof Error ? e.message : String(e)}`))
      }
      if (!back.every(Number.isFinite)) return E.left(boxError(`${where}: box ${i} [${box.join(', ')}] maps back to [${back.join(', ')}]`))
      if (options.cutBoxes === 'drop' && cutSides(back, maps.window, maps.input, tolerance).length > 0) continue
      const seen = clipBox(back, maps.window)
      if (seen === undefined) continue
      boxes.push(normalised ? [seen[0] / width, seen[1] / height, seen[2] / width, seen[3] / height] : seen)
      scores.push(detections.scores[i] ?? Number.NaN)
      labels.push(detections.labels[i] ?? Number.NaN)
    }
    return E.right({ boxes, scores, labels })
  })
}

/** What every runnable view offers: its spec, augmenting an image, and the (trivial) label undo. @category model */
export interface BaseView<Fs extends readonly AnyFactor[]> {
  readonly spec: ViewSpec
  /** ttach's `augment_image`. */
  readonly augmentImage: <const S extends Shape>(image: Tensor<S> & CheckRank<S, 4, 'the image'>) => E.Either<ShapeError | TensorError, Tensor<ViewShapes<Fs, S>>>
  /** ttach's `deaugment_label`: labels do not move under any transform. */
  readonly deaugmentLabel: <L extends Shape>(label: Tensor<L>) => Tensor<L>
}
/** The mask undo, present on a view only when every factor of its product can undo masks. @category model */
export interface MaskView {
  /** ttach's `deaugment_mask`, back to the size of `original` (the image the view was made from). */
  readonly deaugmentMask: <const M extends ImageShape, const S extends ImageShape>(mask: Tensor<M>, original: Tensor<S>) => E.Either<ShapeError | UndoError | TensorError, Tensor<readonly [S[0], M[1], S[2], S[3]]>>
}
/** The keypoint undo, present on a view only when every factor of its product can undo keypoints. @category model */
export interface KeypointsView {
  /**
   * ttach's `deaugment_keypoints`: normalised (x, y) in the last axis. Views with a Translate also
   * need the `original` image, for its size.
   */
  readonly deaugmentKeypoints: <const K extends Shape>(keypoints: Tensor<K>, original?: Tensor<ImageShape>) => E.Either<ShapeError | UndoError | TensorError, Tensor<K>>
}
/** The box undo, present on a view only when every factor of its product can undo boxes. @category model */
export interface BoxesView {
  /**
   * Detections the model found on this view, back in the frame of `original` (the image the view
   * was made from): corners mapped back and re-ordered, clipped to what the view shows (see
   * {@link deaugmentBoxesData}). The detections are checked first (`boxes.checkDetections`).
   */
  readonly deaugmentBoxes: (detections: Detections, original: Tensor<ImageShape>, options?: BoxUndoOptions) => E.Either<ShapeError | UndoError | BoxError | ParamError, Detections>
}
/** A view whose type offers exactly the undos every factor of the product supports. @category model */
export type View<Fs extends readonly AnyFactor[]> = BaseView<Fs>
  & ('mask' extends CommonUndo<Fs> ? MaskView : unknown)
  & ('keypoints' extends CommonUndo<Fs> ? KeypointsView : unknown)
  & ('boxes' extends CommonUndo<Fs> ? BoxesView : unknown)

const runnable = <Fs extends readonly AnyFactor[]>(spec: ViewSpec): BaseView<Fs> & MaskView & KeypointsView & BoxesView => ({
  spec,
  // Every argument is checked first: from plain JavaScript it may be anything (see checkTensor).
  augmentImage: <const S extends Shape>(image: Tensor<S>) =>
    E.flatMap(checkTensor(image, 'the image'), (x) =>
      E.Functor.map(augmentImageData(spec, x.shape, x.data), (t) => assumeShape<ViewShapes<Fs, S>>(t.shape, t.data))),
  deaugmentLabel: (label) => label,
  deaugmentMask: <const M extends ImageShape, const S extends ImageShape>(mask: Tensor<M>, original: Tensor<S>) =>
    E.flatMap(checkTensor(mask, 'the mask'), (m) => E.flatMap(originalShape(original), (shape) =>
      E.flatMap(rank4('the original image', shape), ([n, , h, w]) =>
        m.shape[0] !== n
          ? E.left(shapeError(`the mask has batch ${m.shape[0]} but the image has batch ${n}`))
          : E.Functor.map(deaugmentMaskData(spec, m.shape, m.data, h, w), (t) => assumeShape<readonly [S[0], M[1], S[2], S[3]]>(t.shape, t.data))))),
  deaugmentKeypoints: <const K extends Shape>(keypoints: Tensor<K>, original?: Tensor<ImageShape>) =>
    E.flatMap(checkTensor(keypoints, 'the keypoints'), (k) => E.flatMap(original === undefined ? E.right(undefined) : originalShape(original), (shape) =>
      E.Functor.map(deaugmentKeypointsData(spec, k.shape, k.data, shape?.[2], shape?.[3]), (data) => assumeShape<K>(k.shape, data)))),
  deaugmentBoxes: (detections, original, options = {}) =>
    E.flatMap(originalShape(original), (shape) => E.flatMap(rank4('the original image', shape), ([, , h, w]) =>
      E.flatMap(checkDetections(detections, options.where ?? `view '${spec.name}'`), (checked) => deaugmentBoxesData(spec, checked, h, w, options)))),
})

/** The original image's shape: only its shape is read, so only its shape is checked. */
const originalShape = (original: unknown): E.Either<ShapeError, readonly number[]> =>
  typeof original === 'object' && original !== null && 'shape' in original && Array.isArray(original.shape) &&
  original.shape.every((d: unknown) => typeof d === 'number' && Number.isInteger(d) && d > 0)
    ? E.right(original.shape) : E.left(shapeError('the original image must be a tensor whose shape is positive integers'))

/**
 * The views of a product, runnable on the reference backend, in ttach's order.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, runnableViews } from 'tta-lens'
 * const image = orThrow(tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5]))
 * const [, turned] = runnableViews(aliases.d4())
 * const out = turned!.augmentImage(image)                    // rot90: 3x2
 * assert.ok(E.isRight(out) && out.right.shape.join() === '1,1,3,2')
 * const back = E.flatMap(out, (v) => turned!.deaugmentMask(v, image))
 * assert.ok(E.isRight(back) && back.right.data.join() === '0,1,2,3,4,5')
 * // A box found on the turned (3x2) view comes back into the 2x3 frame, ordered.
 * const box = turned!.deaugmentBoxes({ boxes: [[0, 0, 1, 2]], scores: [0.8], labels: [1] }, image)
 * assert.deepStrictEqual(E.Functor.map(box, (d) => d.boxes), E.right([[1, 0, 3, 1]]))
 * @category destructors
 */
export const runnableViews = <Fs extends readonly AnyFactor[]>(p: Product<Fs>): readonly View<Fs>[] =>
  viewSpecs(p).map((spec) => runnable<Fs>(spec))
