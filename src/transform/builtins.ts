/**
 * The built-in transforms, with ttach's names, parameter lists and identity rules: a factor whose
 * identity parameter (no flip, 0°, scale 1, +0, ×1, the original size) is missing from the list gets
 * it prepended, exactly as ttach does.
 *
 * Parameterless constructors return the factor; the others validate their numbers and return an
 * `Either` with a `ParamError` that says what is wrong. Literal arguments are also checked by the
 * compiler (a literal 45° turn does not compile).
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, type ParamError } from '../errors.js'
import { safeString } from '../guard/decode.js'
import { d4 } from '../algebra/d4.js'
import { limits } from '../guard/limits.js'
import { makeFactor, type Factor, type FactorOption, type Kind } from './factor.js'
import type { CheckAngles, CheckNonEmpty } from './shape-map.js'

/**
 * The angle check, for aliases that forward angles: {@link CheckAngles} under another name.
 * @example
 * import type { transforms } from 'tta-lens'
 * const ok: transforms.CheckAnglesOf<readonly [90, -180]> = 'no error'
 * const bad: transforms.CheckAnglesOf<readonly [90, 45]> = { error: 'Rotate90 turns by multiples of 90°, and 45° is not one' }
 * assert.strictEqual(ok, 'no error')
 * assert.match(bad.error, /45°/)
 * @internal
 */
export type CheckAnglesOf<A extends readonly number[]> = CheckAngles<A>
import { interpolations, type CropAnchor, type Interpolation, type Step, type TileAnchor } from './step.js'

/** All targets: masks, labels, keypoints and boxes can be put back. */
type Every = 'mask' | 'label' | 'keypoints' | 'boxes'
const every: readonly Every[] = ['mask', 'label', 'keypoints', 'boxes']
/** What a view that shows only part of the image can put back: labels, and the boxes it found (shifted back by its offset). */
type PartOfFrame = 'label' | 'boxes'
const partOfFrame: readonly PartOfFrame[] = ['label', 'boxes']

/** A parameter list from untyped code: an array, or a ParamError naming the transform. */
const listOf = (what: string, value: unknown): E.Either<ParamError, readonly unknown[]> =>
  Array.isArray(value) ? E.right(value) : E.left(paramError(`${what} takes an array, got ${value === null ? 'null' : typeof value}`))

/** An options object from untyped code: absent, or an object. */
const optionsOf = (what: string, value: unknown): E.Either<ParamError, void> =>
  value === undefined || (typeof value === 'object' && value !== null && !Array.isArray(value))
    ? E.right(undefined) : E.left(paramError(`${what} options must be an object, got ${value === null ? 'null' : typeof value}`))

const show = safeString

const withIdentity = <P>(identity: P, params: readonly P[], same: (a: P, b: P) => boolean = (a, b) => a === b): readonly P[] =>
  params.some((p) => same(p, identity)) ? params : [identity, ...params]

const option = <P>(param: P, label: string, steps: readonly Step[], kind: Kind): FactorOption<P> => ({ param, label, steps, kind })

/** The factor type of {@link hflip}: params `false | true`, shape unchanged, every target undoable. @category transforms */
export type HorizontalFlip = Factor<'HorizontalFlip', boolean, { readonly map: 'same' }, Every>
/** The factor type of {@link vflip}: params `false | true`, shape unchanged, every target undoable. @category transforms */
export type VerticalFlip = Factor<'VerticalFlip', boolean, { readonly map: 'same' }, Every>

/**
 * Mirror left–right. Params `[false, true]`.
 * @example
 * import { transforms as T } from 'tta-lens'
 * assert.deepStrictEqual(T.hflip().options.map((o) => o.param), [false, true])
 * @category transforms
 */
export const hflip = (): HorizontalFlip =>
  makeFactor('HorizontalFlip', 'apply', [false, true].map((p) => option(p, String(p), p ? [{ op: 'd4', element: d4(0, true) }] : [], 'iso')), every)

/**
 * Mirror top–bottom (the D4 element hflip·rot180). Params `[false, true]`.
 * @example
 * import { transforms as T } from 'tta-lens'
 * assert.strictEqual(T.vflip().options.length, 2)
 * @category transforms
 */
export const vflip = (): VerticalFlip =>
  makeFactor('VerticalFlip', 'apply', [false, true].map((p) => option(p, String(p), p ? [{ op: 'd4', element: d4(2, true) }] : [], 'iso')), every)

/** The factor type of {@link rotate90} with angles `A` (plus 0): odd quarter turns swap H and W in the view shapes. @category transforms */
export type Rotate90<A extends number> = Factor<'Rotate90', A | 0, { readonly map: 'turn'; readonly angle: A | 0 }, Every>

/**
 * Quarter turns counter-clockwise as displayed (`torch.rot90` on H, W). Any multiple of 90 is
 * accepted, negative or past 360; 0 is prepended when missing.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * const r = T.rotate90([90, 180])
 * assert.ok(E.isRight(r) && r.right.options.map((o) => o.param).join() === '0,90,180')
 * assert.ok(E.isLeft(T.rotate90([45 as number])))
 * @category transforms
 */
export const rotate90 = <const A extends readonly number[]>(angles: A & CheckAngles<A>): E.Either<ParamError, Rotate90<A[number]>> => {
  const given = listOf('Rotate90', angles)
  if (E.isLeft(given)) return given
  const bad = given.right.find((a) => typeof a !== 'number' || !Number.isInteger(a) || a % 90 !== 0)
  if (bad !== undefined) return E.left(paramError(`Rotate90 turns by multiples of 90°, and ${show(bad)}° is not one`))
  const list: readonly number[] = angles
  if (list.length === 0) return E.left(paramError('Rotate90 needs at least one angle'))
  return E.right(quarterTurns<A[number]>(angles))
}

/**
 * Rotate90 for angles already known to be right angles (aliases with literal angles): no `Either`,
 * because nothing is validated — pass only multiples of 90. 0 is prepended when missing.
 * @example
 * import { transforms as T } from 'tta-lens'
 * const turns = T.quarterTurns([90, 270])
 * assert.deepStrictEqual(turns.options.map((o) => o.param), [0, 90, 270])
 * assert.strictEqual(turns.options[0]?.steps.length, 0)   // 0° is the identity: no steps
 * @internal
 */
export const quarterTurns = <A extends number>(angles: readonly A[]): Rotate90<A> =>
  makeFactor('Rotate90', 'angle', withIdentity<A | 0>(0, angles).map((a) => {
    const turns = a / 90
    return option(a, String(a), turns % 4 === 0 ? [] : [{ op: 'd4', element: d4(turns, false) }], 'iso')
  }), every)

/** Options shared by Scale and Resize. @category transforms */
export interface ResampleOptions {
  /** Default `'nearest'`, as in ttach. */
  readonly interpolation?: Interpolation
  /** Only for `'bilinear'` and `'bicubic'`; default false. */
  readonly alignCorners?: boolean
}

const checkResample = (what: string, options: ResampleOptions): E.Either<ParamError, { mode: Interpolation; alignCorners: boolean }> => {
  const given = optionsOf(what, options)
  if (E.isLeft(given)) return given
  const mode: unknown = options.interpolation ?? 'nearest'
  const found = interpolations.find((m) => m === mode)
  if (found === undefined) {
    return E.left(paramError(`${what}: unknown interpolation ${typeof mode === 'string' ? `'${mode}'` : show(mode)}; use one of ${interpolations.join(', ')}` +
      (mode === 'linear' ? " ('linear' is 1-D only: use 'bilinear')" : '')))
  }
  const alignCorners: unknown = options.alignCorners ?? false
  if (typeof alignCorners !== 'boolean') return E.left(paramError(`${what}: alignCorners must be true or false, got ${show(alignCorners)}`))
  if (alignCorners && found !== 'bilinear' && found !== 'bicubic') {
    return E.left(paramError(`${what}: alignCorners applies only to 'bilinear' and 'bicubic', not '${found}'`))
  }
  return E.right({ mode: found, alignCorners })
}

const resampleKind = (mode: Interpolation, factor: number): Kind =>
  factor === 1 ? 'iso' : (mode === 'nearest' || mode === 'nearest-exact') && Number.isInteger(factor) && factor > 1 ? 'retraction' : 'lossy'

/** The factor type of {@link scale} with factors `K` (plus 1): view sizes are kept as symbolic terms such as `'H×0.5'`. @category transforms */
export type Scale<K extends number> = Factor<'Scale', K | 1, { readonly map: 'scale'; readonly factor: K | 1 }, Every>

/**
 * Rescale H and W by each factor (output size `trunc(h·k)` as in ttach); masks come back to the
 * input's exact size. 1 is prepended when missing.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * assert.ok(E.isRight(T.scale([0.5, 2], { interpolation: 'bilinear' })))
 * assert.ok(E.isLeft(T.scale([0])))
 * @category transforms
 */
export const scale = <const K extends readonly number[]>(scales: K & CheckNonEmpty<K, 'Scale needs at least one factor'>, options: ResampleOptions = {}): E.Either<ParamError, Scale<K[number]>> => {
  const given = listOf('Scale', scales)
  if (E.isLeft(given)) return given
  const bad = given.right.find((k) => typeof k !== 'number' || !Number.isFinite(k) || k <= 0)
  if (bad !== undefined) return E.left(paramError(`Scale factors must be finite and > 0, got ${show(bad)}`))
  const list: readonly number[] = scales
  if (list.length === 0) return E.left(paramError('Scale needs at least one factor'))
  return E.Functor.map(checkResample('Scale', options), ({ mode, alignCorners }) =>
    makeFactor('Scale', 'scale', withIdentity<K[number] | 1>(1, scales).map((k) =>
      option(k, String(k), k === 1 ? [] : [{ op: 'resample', target: { by: 'factor', factor: k }, mode, alignCorners }], resampleKind(mode, k))), every))
}

/** A spatial size `[height, width]`, as {@link resize} and {@link Resize} take it. @category transforms */
export type Size = readonly [number, number]
/**
 * Resize to each size in `Z`; `O` is the `originalSize`, whose view is the identity (no resize at
 * run time, so its shape is the input's, whatever that is). @category transforms
 */
export type Resize<Z extends Size, O extends Size = never> = Factor<'Resize', Z | O,
  | { readonly map: 'resize'; readonly size: Exclude<Z, O> }
  | ([O] extends [never] ? never : { readonly map: 'same' }), Every>

/**
 * Resize to each `[height, width]`. With `originalSize`, that size is the identity view and is
 * prepended when missing (as in ttach). Unlike ttach, masks always come back to the input's size.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * const r = T.resize([[4, 4], [12, 12]], { originalSize: [8, 8] })
 * assert.ok(E.isRight(r) && r.right.options.length === 3)
 * @category transforms
 */
export const resize = <const Z extends readonly Size[], const O extends Size = never>(
  sizes: Z & CheckNonEmpty<Z, 'Resize needs at least one size'>,
  options: ResampleOptions & { readonly originalSize?: O } = {},
): E.Either<ParamError, Resize<Z[number], O>> => {
  const given = E.flatMap(optionsOf('Resize', options), () => listOf('Resize', sizes))
  if (E.isLeft(given)) return given
  const original: unknown = options.originalSize
  const candidates: readonly unknown[] = original === undefined ? given.right : [original, ...given.right]
  const bad = candidates.find((s) => !Array.isArray(s) || s.length !== 2 || !s.every((d) => typeof d === 'number' && Number.isInteger(d) && d > 0))
  if (bad !== undefined) return E.left(paramError(`Resize sizes must be [height, width] positive integers, got ${show(bad)}`))
  if (sizes.length === 0) return E.left(paramError('Resize needs at least one size'))
  return E.Functor.map(checkResample('Resize', options), ({ mode, alignCorners }) => {
    const original = options.originalSize
    const same = (a: Size, b: Size): boolean => a[0] === b[0] && a[1] === b[1]
    const params: readonly (Z[number] | O)[] = original === undefined ? sizes : withIdentity<Z[number] | O>(original, sizes, same)
    return makeFactor('Resize', 'size', params.map((z) =>
      option(z, `[${z[0]},${z[1]}]`, original !== undefined && same(z, original) ? [] : [{ op: 'resample', target: { by: 'size', height: z[0], width: z[1] }, mode, alignCorners }], original !== undefined && same(z, original) ? 'iso' : 'lossy')), every)
  })
}

/** The factor type of {@link add} with offsets `V` (plus 0): pixel values change, shapes and targets do not. @category transforms */
export type Add<V extends number> = Factor<'Add', V | 0, { readonly map: 'same' }, Every>
/** The factor type of {@link multiply} with factors `V` (plus 1): pixel values change, shapes and targets do not. @category transforms */
export type Multiply<V extends number> = Factor<'Multiply', V | 1, { readonly map: 'same' }, Every>

const finite = (what: string, values: readonly number[]): E.Either<ParamError, readonly number[]> =>
  E.flatMap(listOf(what, values), (list) => {
    const bad = list.find((v) => typeof v !== 'number' || !Number.isFinite(v))
    return bad !== undefined ? E.left(paramError(`${what} values must be finite numbers, got ${show(bad)}`))
      : list.length === 0 ? E.left(paramError(`${what} needs at least one value`))
        : E.right(values)
  })

/**
 * Add a constant to every pixel (image only: masks, labels and keypoints are invariant).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * assert.ok(E.isRight(T.add([-0.1, 0.1])))
 * @category transforms
 */
export const add = <const V extends readonly number[]>(values: V & CheckNonEmpty<V, 'Add needs at least one value'>): E.Either<ParamError, Add<V[number]>> =>
  E.Functor.map(finite('Add', values), () => makeFactor('Add', 'value', withIdentity<V[number] | 0>(0, values).map((v) =>
    option(v, String(v), v === 0 ? [] : [{ op: 'pointwise', scale: 1, shift: v }], 'invariant')), every))

/**
 * Multiply every pixel by a constant (image only).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * assert.ok(E.isRight(T.multiply([0.9, 1.1])))
 * @category transforms
 */
export const multiply = <const V extends readonly number[]>(factors: V & CheckNonEmpty<V, 'Multiply needs at least one value'>): E.Either<ParamError, Multiply<V[number]>> =>
  E.Functor.map(finite('Multiply', factors), () => makeFactor('Multiply', 'factor', withIdentity<V[number] | 1>(1, factors).map((v) =>
    option(v, String(v), v === 1 ? [] : [{ op: 'pointwise', scale: v, shift: 0 }], 'invariant')), every))

/** The factor type of {@link fiveCrops}: every view is `H`×`W`; labels and boxes can be undone, masks and keypoints cannot. @category transforms */
export type FiveCrops<H extends number, W extends number> = Factor<'FiveCrops', CropAnchor, { readonly map: 'crop'; readonly size: readonly [H, W] }, PartOfFrame>

/**
 * ttach's order of the five crops: the order of {@link fiveCrops}' views, so results can be matched
 * with ttach's view by view.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * assert.deepStrictEqual(T.cropAnchors, ['crop_lt', 'crop_lb', 'crop_rb', 'crop_rt', 'center_crop'])
 * const c = T.fiveCrops(2, 2)
 * assert.ok(E.isRight(c) && c.right.options.map((o) => o.param).join() === T.cropAnchors.join())
 * @category transforms
 */
export const cropAnchors: readonly CropAnchor[] = ['crop_lt', 'crop_lb', 'crop_rb', 'crop_rt', 'center_crop']

/**
 * The four corner crops and the centre crop of `height`×`width`. Labels can be merged from crops,
 * and so can detection boxes (each crop's boxes shift back by its offset); masks and keypoints
 * outside a crop were never seen, so those undos do not exist (a segmentation or keypoints wrapper
 * with FiveCrops does not compile).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * const c = T.fiveCrops(224, 224)
 * assert.ok(E.isRight(c) && c.right.undoes.join() === 'label,boxes')
 * @category transforms
 */
export const fiveCrops = <const H extends number, const W extends number>(height: H, width: W): E.Either<ParamError, FiveCrops<H, W>> =>
  [height, width].every((d) => Number.isInteger(d) && d > 0)
    ? E.right(makeFactor('FiveCrops', 'crop_fn', cropAnchors.map((anchor) =>
      option(anchor, anchor, [{ op: 'crop', anchor, height, width }], 'lossy')), partOfFrame))
    : E.left(paramError(`FiveCrops needs positive integer sizes, got ${show(height)}x${show(width)}`))

/**
 * A tile's place in its grid, `[row, col]`, or `'whole'` for the whole image (see {@link tiles}).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * const t = T.tiles(4, 4, { rows: 1, cols: 2, whole: true })
 * const params: readonly T.TileParam[] = E.isRight(t) ? t.right.options.map((o) => o.param) : []
 * assert.deepStrictEqual(params, ['whole', [0, 0], [0, 1]])
 * @category transforms
 */
export type TileParam = readonly [row: number, col: number] | 'whole'

/**
 * The factor type of {@link tiles}: `H`×`W` tiles (and the whole image when `Whole` is true); labels
 * and boxes can be undone, masks and keypoints cannot.
 * @example
 * import type { ShowShape, ViewShapes, transforms as T } from 'tta-lens'
 * const shapes: readonly ShowShape<ViewShapes<readonly [T.Tiles<256, 256, true>], readonly [1, 3, 600, 1000]>>[] =
 *   ['[1,3,256,256]', '[1,3,600,1000]']
 * assert.strictEqual(shapes.length, 2)
 * @category transforms
 */
export type Tiles<H extends number, W extends number, Whole extends boolean = false> = Factor<'Tiles', TileParam,
  | { readonly map: 'crop'; readonly size: readonly [H, W] }
  | (Whole extends true ? { readonly map: 'same' } : never), PartOfFrame>

/**
 * Options of {@link tiles}.
 * @example
 * import { transforms as T } from 'tta-lens'
 * const options: T.TileOptions<true> = { ...T.tileGrid([600, 1000], [256, 256], 64), whole: true }
 * assert.deepStrictEqual(options, { rows: 3, cols: 5, whole: true })
 * @category transforms
 */
export interface TileOptions<Whole extends boolean = false> {
  /** Tiles down the image. */
  readonly rows: number
  /** Tiles across the image. */
  readonly cols: number
  /** Also run the whole image as the first view (what tiled detection usually adds). Default false. */
  readonly whole?: Whole
}

/**
 * A grid of `rows` × `cols` overlapping tiles of `height`×`width` — how large images are run
 * through a detector trained on small ones. The tiles are spread evenly: the first flush with the
 * top (left) edge, the last with the bottom (right) edge, so together they cover the image, with a
 * stride of `(H − height) / (rows − 1)` pixels (rounded) on an `H`-high image; a single row (or
 * column) is centred. The grid is fixed and the stride follows the image, because a product's views
 * exist before any image does; {@link tileGrid} finds the grid for an overlap when the image size is
 * known. With `whole: true` the whole image is the first view.
 *
 * Like crops, tiles undo labels and boxes (a tile's boxes shift back by its offset) but not masks or
 * keypoints. A tile larger than the image is a `ShapeError` when the plan meets the image.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { cropOrigin, transforms as T, views, product } from 'tta-lens'
 * const t = T.tiles(256, 256, { rows: 2, cols: 3, whole: true })
 * assert.ok(E.isRight(t))
 * assert.deepStrictEqual(views(product(t.right)).map((v) => v.name).slice(0, 3), ['identity', 'Tiles([0,0])', 'Tiles([0,1])'])
 * assert.strictEqual(t.right.undoes.join(), 'label,boxes')
 * // on a 400x600 image the tiles start at y = 0, 144 and x = 0, 172, 344
 * assert.deepStrictEqual(cropOrigin({ row: 1, col: 1, rows: 2, cols: 3 }, 400, 600, 256, 256), [144, 172])
 * assert.ok(E.isLeft(T.tiles(256, 256, { rows: 0, cols: 2 })))
 * @category transforms
 */
export const tiles = <const H extends number, const W extends number, const Whole extends boolean = false>(
  height: H,
  width: W,
  options: TileOptions<Whole>,
): E.Either<ParamError, Tiles<H, W, Whole>> => {
  const given: unknown = options
  if (typeof given !== 'object' || given === null || Array.isArray(given)) return E.left(paramError(`Tiles needs options { rows, cols }, got ${show(given)}`))
  const { rows, cols } = options
  if (![height, width].every((d) => Number.isInteger(d) && d > 0)) return E.left(paramError(`Tiles needs positive integer sizes, got ${show(height)}x${show(width)}`))
  if (![rows, cols].every((d) => Number.isInteger(d) && d > 0)) return E.left(paramError(`Tiles needs a grid of positive integers (rows, cols), got ${show(rows)}x${show(cols)}`))
  // A grid is views: as many as a product may have at most.
  if (rows * cols > limits.maxViews) return E.left(paramError(`Tiles of a ${rows}x${cols} grid would make ${rows * cols} views; a product may have at most ${limits.maxViews}`))
  const whole: unknown = options.whole ?? false
  if (typeof whole !== 'boolean') return E.left(paramError(`Tiles' whole must be true or false, got ${String(whole)}`))
  const grid: TileParam[] = []
  for (let row = 0; row < rows; row++) for (let col = 0; col < cols; col++) grid.push([row, col])
  const params: readonly TileParam[] = whole ? ['whole', ...grid] : grid
  return E.right(makeFactor('Tiles', 'tile', params.map((p) => {
    if (p === 'whole') return option<TileParam>(p, p, [], 'iso')
    const anchor: TileAnchor = { row: p[0], col: p[1], rows, cols }
    return option<TileParam>(p, `[${p[0]},${p[1]}]`, [{ op: 'crop', anchor, height, width }], 'lossy')
  }), partOfFrame))
}

/**
 * The smallest grid of `tile`-sized tiles that covers an `image` with at least `overlap` pixels
 * shared by neighbouring tiles (per axis: `[rows, cols]`): pass it to {@link tiles} when the image
 * size is known. A tile larger than the image along an axis gives one tile there (and {@link tiles}
 * then reports the misfit when it meets the image).
 * @example
 * import { transforms as T } from 'tta-lens'
 * // 1000 wide with 256-wide tiles overlapping by at least 64: stride ≤ 192 → 5 columns (stride 186)
 * assert.deepStrictEqual(T.tileGrid([600, 1000], [256, 256], 64), { rows: 3, cols: 5 })
 * assert.deepStrictEqual(T.tileGrid([256, 256], [256, 256], 32), { rows: 1, cols: 1 })
 * @category transforms
 */
export const tileGrid = (image: Size, tile: Size, overlap: number | Size = 0): { readonly rows: number; readonly cols: number } => {
  const [oy, ox] = typeof overlap === 'number' ? [overlap, overlap] : overlap
  const count = (side: number, t: number, o: number): number => {
    if (side <= t) return 1
    const stride = Math.max(1, t - Math.max(0, o))
    return Math.ceil((side - t) / stride) + 1
  }
  return { rows: count(image[0], tile[0], oy), cols: count(image[1], tile[1], ox) }
}

/** The factor type of {@link translate} with shifts `D` (plus `[0, 0]`): shape unchanged, every target undoable. @category transforms */
export type Translate<D extends readonly [number, number]> = Factor<'Translate', D | readonly [0, 0], { readonly map: 'same' }, Every>

/**
 * Shift the image by whole pixels, `[dy, dx]` each (down and right are positive); `[0, 0]` is
 * prepended when missing. Not in ttach; small shifts are what helps small-image classifiers.
 * A lossy lens with exact shape: pixels shifted in from outside read `fill` (default `'zeros'`);
 * a mask comes back shifted the other way with its own edge standing in for what left the frame;
 * keypoints move back exactly; labels are invariant.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { transforms as T } from 'tta-lens'
 * const t = T.translate([[0, 1], [0, -1]])
 * assert.ok(E.isRight(t) && t.right.options.length === 3)
 * assert.ok(E.isLeft(T.translate([[0.5, 0]])))
 * @category transforms
 */
export const translate = <const D extends readonly (readonly [number, number])[]>(
  shifts: D & CheckNonEmpty<D, 'Translate needs at least one shift'>,
  options: { readonly fill?: 'zeros' | 'edge' } = {},
): E.Either<ParamError, Translate<D[number]>> => {
  const given = E.flatMap(optionsOf('Translate', options), () => listOf('Translate', shifts))
  if (E.isLeft(given)) return given
  const bad = given.right.find((d) => !Array.isArray(d) || d.length !== 2 || !d.every(Number.isSafeInteger))
  if (bad !== undefined) return E.left(paramError(`Translate shifts must be [dy, dx] whole pixels, got ${show(bad)}`))
  const list: readonly (readonly [number, number])[] = shifts
  if (list.length === 0) return E.left(paramError('Translate needs at least one shift'))
  const fill: unknown = options.fill ?? 'zeros'
  if (fill !== 'zeros' && fill !== 'edge') return E.left(paramError(`Translate fill must be 'zeros' or 'edge', got ${typeof fill === 'string' ? `'${fill}'` : show(fill)}`))
  const none: readonly [0, 0] = [0, 0]
  const params: readonly (D[number] | readonly [0, 0])[] = list.some(([dy, dx]) => dy === 0 && dx === 0) ? shifts : [none, ...shifts]
  return E.right(makeFactor('Translate', 'shift', params.map((d) => {
    const [dy, dx] = d
    return option(d, `[${dy},${dx}]`, dy === 0 && dx === 0 ? [] : [{ op: 'translate', dy, dx, fill }], dy === 0 && dx === 0 ? 'iso' : 'lossy')
  }), every))
}
