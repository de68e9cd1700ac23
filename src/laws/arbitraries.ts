/**
 * fast-check arbitraries for the law kit: the inputs every law is checked on.
 *
 * - Images are NCHW and, by default, NON-SQUARE (a transpose and a quarter turn agree on square
 *   images of a symmetric picture, and a swapped height/width goes unnoticed when they are equal).
 * - Pixel values are exact binary fractions (`k / 32`, |k| ≤ 128), so gathers, flips and sums of a
 *   few values are exact in float32 and the exact laws can use `===`.
 * - Smooth images (low-frequency ramps plus one slow sine per plane) are the inputs of the lossy
 *   laws, where "close" only makes sense for signals that resampling can represent.
 * - Keypoints are exact binary fractions in [0, 1] (`k / 256`), so `1 - (1 - x) = x` exactly.
 *
 * Nothing here imports a test runner: use the arbitraries with `fc.assert`, `fc.check` or
 * `@fast-check/vitest` as you like.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { d4Elements } from '../algebra/d4.js'
import { product, views, type AnyFactor, type Product, type ViewSpec } from '../algebra/product.js'
import { viewSize } from '../backend/reference/views.js'
import type { D4Element } from '../transform/d4.js'
import * as T from '../transform/builtins.js'
import { sizeOf, tensor, type Tensor } from '../tensor/tensor.js'
import { geometry } from './laws.js'

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * An NCHW tensor whose sizes are known only at run time.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * const images: fc.Arbitrary<laws.arbitraries.ImageTensor> = laws.arbitraries.image()
 * fc.assert(fc.property(images, (x) => x.shape.length === 4))
 * @category model
 */
export type ImageTensor = Tensor<readonly [number, number, number, number]>
/**
 * Keypoints `[N, K, 2]`: normalised (x, y) in the last axis.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * const points: fc.Arbitrary<laws.arbitraries.KeypointTensor> = laws.arbitraries.keypoints({ maxPoints: 17 })
 * fc.assert(fc.property(points, (p) => p.shape[1] <= 17))
 * @category model
 */
export type KeypointTensor = Tensor<readonly [number, number, 2]>
/**
 * Labels (class scores) `[N, classes]`.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * const scores: fc.Arbitrary<laws.arbitraries.LabelTensor> = laws.arbitraries.labels({ maxClasses: 1000 })
 * fc.assert(fc.property(scores, (s) => s.shape[1] <= 1000))
 * @category model
 */
export type LabelTensor = Tensor<readonly [number, number]>

/**
 * Sizes of generated images.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * const sizes: laws.arbitraries.ImageConstraints = { minSide: 4, maxSide: 16, square: true }
 * fc.assert(fc.property(laws.arbitraries.image(sizes), (x) => x.shape[2] >= 4 && x.shape[3] <= 16))
 * @category model
 */
export interface ImageConstraints {
  /** Smallest batch, default 1. */
  readonly minBatch?: number
  /** Largest batch, default 2. */
  readonly maxBatch?: number
  /** Smallest channel count, default 1. */
  readonly minChannels?: number
  /** Largest channel count, default 3. */
  readonly maxChannels?: number
  /** Smallest height or width, default 1 (8 for smooth images). */
  readonly minSide?: number
  /** Largest height or width, default 9 (24 for smooth images). */
  readonly maxSide?: number
  /** Allow height = width; default false (non-square only). */
  readonly square?: boolean
}

/**
 * Shape `[n, c, h, w]` of a generated image.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * const dims: laws.arbitraries.Dims4 = [1, 3, 2, 5]
 * fc.assert(fc.property(laws.arbitraries.imageOfShape(dims), (m) => m.shape.join() === '1,3,2,5'))
 * @category model
 */
export type Dims4 = readonly [number, number, number, number]

// -------------------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------------------

/** A tensor of exactly `shape` filled by `value` (the length always fits, so nothing is rejected). */
const filled = <const S extends readonly number[]>(shape: S, value: fc.Arbitrary<number>): fc.Arbitrary<Tensor<S>> =>
  fc.array(value, { minLength: sizeOf(shape), maxLength: sizeOf(shape) })
    .map((data) => tensor(shape, data))
    .filter((t): t is E.Right<Tensor<S>> => E.isRight(t))
    .map((t) => t.right)

// -------------------------------------------------------------------------------------------------
// constructors
// -------------------------------------------------------------------------------------------------

/**
 * An exact binary fraction `k / 32` with |k| ≤ 128 (so in [-4, 4]); `nonNegative` keeps k ≥ 0.
 * Sums of up to 2²⁰ of them are exact in float64, and each is exact in float32.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.pixelValue(), (v) => Math.fround(v) === v && Math.abs(v) <= 4))
 * @category constructors
 */
export const pixelValue = (options: { readonly nonNegative?: boolean } = {}): fc.Arbitrary<number> =>
  fc.integer({ min: options.nonNegative === true ? 0 : -128, max: 128 }).map((k) => k / 32)

/**
 * Image sizes `[n, c, h, w]`: n 1–2, c 1–3, h and w 1–9 and different from each other by default.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.imageDims(), ([, , h, w]) => h !== w))
 * @category constructors
 */
export const imageDims = (c: ImageConstraints = {}): fc.Arbitrary<Dims4> => {
  const side = fc.integer({ min: c.minSide ?? 1, max: c.maxSide ?? 9 })
  return fc.tuple(
    fc.integer({ min: c.minBatch ?? 1, max: c.maxBatch ?? 2 }),
    fc.integer({ min: c.minChannels ?? 1, max: c.maxChannels ?? 3 }),
    side,
    side,
  ).filter(([, , h, w]) => c.square === true || h !== w)
}

/**
 * A tensor of exactly the given shape with exact binary-fraction values (see {@link pixelValue}).
 * Use it for a "model output" on a view, whose shape depends on the input.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.imageOfShape([1, 2, 3, 4]), (t) => t.data.length === 24))
 * @category constructors
 */
export const imageOfShape = (shape: Dims4, options: { readonly nonNegative?: boolean } = {}): fc.Arbitrary<ImageTensor> =>
  filled<readonly [number, number, number, number]>(shape, pixelValue(options))

/**
 * A random NCHW image: non-square by default, exact binary-fraction values.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.image(), (x) => x.shape.length === 4 && x.shape[2] !== x.shape[3]))
 * @category constructors
 */
export const image = (c: ImageConstraints = {}): fc.Arbitrary<ImageTensor> => imageDims(c).chain((dims) => imageOfShape(dims))

/**
 * An input `x` together with a tensor `y` in the frame of the view `spec` makes from it: same
 * batch, 1–3 channels (a model's mask need not have the image's channels), the view's height and
 * width (of its geometry: Add/Multiply steps do not count). The input of the iso law.
 * @example
 * import fc from 'fast-check'
 * import { aliases, laws, views } from 'tta-lens'
 * const rot90 = views(aliases.d4())[1]!
 * fc.assert(fc.property(laws.arbitraries.imageAndViewFrame(rot90), ({ x, y }) => x.shape[2] === y.shape[3] && x.shape[3] === y.shape[2]))
 * @category constructors
 */
export const imageAndViewFrame = (spec: ViewSpec, c: ImageConstraints = {}): fc.Arbitrary<{ readonly x: ImageTensor; readonly y: ImageTensor }> =>
  image(c).chain((x) => {
    const [n, , h, w] = x.shape
    const size = viewSize(geometry(spec), h, w)
    const [vh, vw] = E.isRight(size) ? size.right : [1, 1]
    return fc.integer({ min: 1, max: 3 }).chain((k) => imageOfShape([n, k, vh, vw])).map((y) => ({ x, y }))
  })

/**
 * The parameters of one smooth plane.
 * @example
 * import { laws } from 'tta-lens'
 * const ramp: laws.arbitraries.SmoothPlane = { slopeY: 0, slopeX: 0.5, amplitude: 0, freqY: 0, freqX: 0, phase: 0 }
 * assert.strictEqual(laws.arbitraries.smoothValue(ramp, 0, 1, 4, 2), 0.375)
 * @category model
 */
export interface SmoothPlane {
  /** Slope along the height (per image height), in [-1/2, 1/2]. */
  readonly slopeY: number
  /** Slope along the width (per image width), in [-1/2, 1/2]. */
  readonly slopeX: number
  /** Amplitude of the sine, in [0, 1/4]. */
  readonly amplitude: number
  /** Half-periods of the sine across the height: 0 or 1. */
  readonly freqY: number
  /** Half-periods of the sine across the width: 0 or 1. */
  readonly freqX: number
  /** Phase, a multiple of π/4. */
  readonly phase: number
}

/**
 * The value of a smooth plane at pixel (i, j) of an h×w image: with u, v the pixel centre's
 * normalised coordinates, `slopeY·u + slopeX·v + amplitude·sin(π(freqY·u + freqX·v) + phase)`.
 * Its range is at most 1.5 wide and it changes by at most (1/2 + π/4)/side per pixel.
 * @example
 * import { laws } from 'tta-lens'
 * const ramp = { slopeY: 0.5, slopeX: 0, amplitude: 0, freqY: 0, freqX: 0, phase: 0 }
 * assert.strictEqual(laws.arbitraries.smoothValue(ramp, 1, 0, 2, 4), 0.375)
 * @category utils
 */
export const smoothValue = (p: SmoothPlane, i: number, j: number, height: number, width: number): number => {
  const u = (i + 0.5) / height
  const v = (j + 0.5) / width
  return p.slopeY * u + p.slopeX * v + p.amplitude * Math.sin(Math.PI * (p.freqY * u + p.freqX * v) + p.phase)
}

/**
 * One smooth plane's parameters.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.smoothPlane(), (p) => Math.abs(p.slopeX) <= 0.5 && p.amplitude <= 0.25))
 * @category constructors
 */
export const smoothPlane = (): fc.Arbitrary<SmoothPlane> => fc.record({
  slopeY: fc.integer({ min: -8, max: 8 }).map((k) => k / 16),
  slopeX: fc.integer({ min: -8, max: 8 }).map((k) => k / 16),
  amplitude: fc.integer({ min: 0, max: 4 }).map((k) => k / 16),
  freqY: fc.integer({ min: 0, max: 1 }),
  freqX: fc.integer({ min: 0, max: 1 }),
  phase: fc.integer({ min: 0, max: 7 }).map((k) => (k * Math.PI) / 4),
})

/**
 * A smooth (low-frequency) NCHW image for the lossy laws: each plane a ramp plus one slow sine
 * ({@link smoothValue}). Sides default to 8–24, non-square.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.smoothImage(), (x) => x.data.every((v) => Math.abs(v) <= 1.25)))
 * @category constructors
 */
export const smoothImage = (c: ImageConstraints = {}): fc.Arbitrary<ImageTensor> =>
  imageDims({ ...c, minSide: c.minSide ?? 8, maxSide: c.maxSide ?? 24 }).chain((dims) => {
    const [n, ch, h, w] = dims
    return fc.array(smoothPlane(), { minLength: n * ch, maxLength: n * ch })
      .map((planes) => tensor(dims, planes.flatMap((p) => Array.from({ length: h * w }, (_, k) => smoothValue(p, Math.floor(k / w), k % w, h, w)))))
      .filter((t): t is E.Right<ImageTensor> => E.isRight(t))
      .map((t) => t.right)
  })

/**
 * A normalised point (x, y) in [0, 1]², both exact multiples of 1/256.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.point(), ([x, y]) => x >= 0 && x <= 1 && y >= 0 && y <= 1))
 * @category constructors
 */
export const point = (): fc.Arbitrary<readonly [number, number]> => {
  const coord = fc.integer({ min: 0, max: 256 }).map((k) => k / 256)
  return fc.tuple(coord, coord)
}

/**
 * Keypoint tensors `[n, k, 2]` (n 1–2, k 1–5) of normalised (x, y) in [0, 1].
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.keypoints(), (t) => t.shape[2] === 2 && t.data.every((v) => v >= 0 && v <= 1)))
 * @category constructors
 */
export const keypoints = (c: { readonly maxBatch?: number; readonly maxPoints?: number } = {}): fc.Arbitrary<KeypointTensor> =>
  fc.tuple(fc.integer({ min: 1, max: c.maxBatch ?? 2 }), fc.integer({ min: 1, max: c.maxPoints ?? 5 }))
    .chain(([n, k]) => filled<readonly [number, number, 2]>([n, k, 2], fc.integer({ min: 0, max: 256 }).map((v) => v / 256)))

/**
 * Label tensors (class scores) `[n, classes]`, n 1–2, classes 1–10.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.labels(), (t) => t.shape.length === 2))
 * @category constructors
 */
export const labels = (c: { readonly maxBatch?: number; readonly maxClasses?: number } = {}): fc.Arbitrary<LabelTensor> =>
  fc.tuple(fc.integer({ min: 1, max: c.maxBatch ?? 2 }), fc.integer({ min: 1, max: c.maxClasses ?? 10 }))
    .chain(([n, k]) => filled<readonly [number, number]>([n, k], pixelValue()))

/**
 * A single pixel of an image of some size: `{ height, width, i, j }` with i < height, j < width
 * (non-square by default).
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.pixel(), (p) => p.i < p.height && p.j < p.width))
 * @category constructors
 */
export const pixel = (c: ImageConstraints = {}): fc.Arbitrary<{ readonly height: number; readonly width: number; readonly i: number; readonly j: number }> =>
  imageDims({ ...c, maxBatch: 1, maxChannels: 1 }).chain(([, , height, width]) =>
    fc.record({ height: fc.constant(height), width: fc.constant(width), i: fc.nat(height - 1), j: fc.nat(width - 1) }))

/**
 * An image size with a box inside its frame: `{ height, width, box }`, the box `[x1, y1, x2, y2]`
 * in pixels with corners on multiples of 1/4 (exact binary fractions, so flips and offsets are
 * exact), `x1 ≤ x2`, `y1 ≤ y2`. Sides as {@link imageDims} (non-square by default). The input of
 * the box round-trip law.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.frameAndBox(), ({ height, width, box: [x1, y1, x2, y2] }) =>
 *   0 <= x1 && x1 <= x2 && x2 <= width && 0 <= y1 && y1 <= y2 && y2 <= height))
 * @category constructors
 */
export const frameAndBox = (c: ImageConstraints = {}): fc.Arbitrary<{ readonly height: number; readonly width: number; readonly box: readonly [number, number, number, number] }> =>
  imageDims({ ...c, maxBatch: 1, maxChannels: 1 }).chain(([, , height, width]) => {
    const along = (side: number): fc.Arbitrary<readonly [number, number]> =>
      fc.tuple(fc.integer({ min: 0, max: 4 * side }), fc.integer({ min: 0, max: 4 * side })).map(([a, b]) => [Math.min(a, b) / 4, Math.max(a, b) / 4] as const)
    return fc.tuple(along(width), along(height)).map(([[x1, x2], [y1, y2]]) => ({ height, width, box: [x1, y1, x2, y2] as const }))
  })

/**
 * An image size with a rectangle of whole pixels inside it, at least one pixel wide and high: the
 * input of the box/pixel law. Sides default to 4–16, non-square.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.frameAndRect(), ({ width, box: [x1, , x2] }) => Number.isInteger(x1) && x1 < x2 && x2 <= width))
 * @category constructors
 */
export const frameAndRect = (c: ImageConstraints = {}): fc.Arbitrary<{ readonly height: number; readonly width: number; readonly box: readonly [number, number, number, number] }> =>
  imageDims({ ...c, maxBatch: 1, maxChannels: 1, minSide: Math.min(c.minSide ?? 4, c.maxSide ?? 16), maxSide: c.maxSide ?? 16 }).chain(([, , height, width]) => {
    const along = (side: number): fc.Arbitrary<readonly [number, number]> =>
      fc.tuple(fc.integer({ min: 0, max: side - 1 }), fc.integer({ min: 1, max: side })).map(([start, length]) => [start, Math.min(side, start + length)] as const)
    return fc.tuple(along(width), along(height)).map(([[x1, x2], [y1, y2]]) => ({ height, width, box: [x1, y1, x2, y2] as const }))
  })

/**
 * An element of the dihedral group D4 (one of the 8 flips and quarter turns).
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.d4Element(), (g) => g.turns >= 0 && g.turns < 4))
 * @category constructors
 */
export const d4Element = (): fc.Arbitrary<D4Element> => fc.constantFrom(...d4Elements)

/**
 * One flip or turn factor: `HorizontalFlip`, `VerticalFlip`, or `Rotate90` with a non-empty set of
 * angles drawn from −270…450 in steps of 90.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.flipTurnFactor(), (f) => f.undoes.includes('mask')))
 * @category constructors
 */
export const flipTurnFactor = (): fc.Arbitrary<AnyFactor> => fc.oneof(
  fc.constant<AnyFactor>(T.hflip()),
  fc.constant<AnyFactor>(T.vflip()),
  fc.subarray([-270, -90, 90, 180, 270, 360, 450], { minLength: 1, maxLength: 3 }).map((angles): AnyFactor => T.quarterTurns(angles)),
)

/**
 * A product of 1–3 flip/turn factors: every view is an element of D4.
 * @example
 * import fc from 'fast-check'
 * import { dihedral, laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.flipTurnProduct(), (p) => dihedral(p) !== undefined))
 * @category constructors
 */
export const flipTurnProduct = (c: { readonly maxFactors?: number } = {}): fc.Arbitrary<Product<readonly AnyFactor[]>> =>
  fc.array(flipTurnFactor(), { minLength: 1, maxLength: c.maxFactors ?? 3 }).map((factors) => product(...factors))

/**
 * One view of the given product (uniformly over its views).
 * @example
 * import fc from 'fast-check'
 * import { aliases, laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.viewOf(aliases.d4()), (v) => v.d4 !== undefined))
 * @category constructors
 */
export const viewOf = (p: Product<readonly AnyFactor[]>): fc.Arbitrary<ViewSpec> => fc.constantFrom(...views(p))

const predictionShape = (): fc.Arbitrary<readonly number[]> => fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 })

/**
 * One prediction (rank 1–3, dims 1–4) with binary-fraction values, for the merge laws.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.prediction({ nonNegative: true }), (t) => t.data.every((v) => v >= 0)))
 * @category constructors
 */
export const prediction = (options: { readonly nonNegative?: boolean } = {}): fc.Arbitrary<Tensor<readonly number[]>> =>
  predictionShape().chain((shape) => filled<readonly number[]>(shape, pixelValue(options)))

/**
 * A list of `count` predictions of one shape (rank 1–3, dims 1–4), for the merge laws.
 * @example
 * import fc from 'fast-check'
 * import { laws } from 'tta-lens'
 * fc.assert(fc.property(laws.arbitraries.predictions(3), (ts) => ts.length === 3))
 * @category constructors
 */
export const predictions = (count: number, options: { readonly nonNegative?: boolean } = {}): fc.Arbitrary<readonly Tensor<readonly number[]>[]> =>
  predictionShape().chain((shape) =>
    fc.array(filled<readonly number[]>(shape, pixelValue(options)), { minLength: count, maxLength: count }))

// Detections and box fusion: see detections.ts.
export * from './detections.js'
