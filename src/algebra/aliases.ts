/**
 * ttach's aliases, with the same factors in the same order (so the same views in the same order).
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { ParamError } from '../errors.js'
import * as T from '../transform/builtins.js'
import type { CheckNonEmpty } from '../transform/shape-map.js'
import type { Interpolation } from '../transform/step.js'
import { product, type Product } from './product.js'

/**
 * `Compose([HorizontalFlip()])`: 2 views. The cheapest policy, and a safe first try for natural
 * images, where left and right are interchangeable.
 * @example
 * import { aliases, views } from 'tta-lens'
 * assert.deepStrictEqual(views(aliases.hflip()).map((v) => v.name), ['identity', 'HorizontalFlip(true)'])
 * @category aliases
 */
export const hflip = (): Product<readonly [T.HorizontalFlip]> => product(T.hflip())
/**
 * `Compose([VerticalFlip()])`: 2 views. For images with no natural "up" (aerial, microscopy);
 * on photographs an upside-down view is out of distribution for most models.
 * @example
 * import { aliases, views } from 'tta-lens'
 * assert.deepStrictEqual(views(aliases.vflip()).map((v) => v.name), ['identity', 'VerticalFlip(true)'])
 * @category aliases
 */
export const vflip = (): Product<readonly [T.VerticalFlip]> => product(T.vflip())
/**
 * `Compose([HorizontalFlip(), VerticalFlip()])`: 4 views — the identity, both mirrors and the
 * half turn they make together.
 * @example
 * import { aliases, dihedral } from 'tta-lens'
 * assert.deepStrictEqual(dihedral(aliases.flip())?.names, ['id', 'hflip·rot180', 'hflip', 'rot180'])
 * @category aliases
 */
export const flip = (): Product<readonly [T.HorizontalFlip, T.VerticalFlip]> => product(T.hflip(), T.vflip())

/**
 * `Compose([HorizontalFlip(), Rotate90([0, 90, 180, 270])])`: the 8 elements of the dihedral group.
 * @example
 * import { aliases, dihedral } from 'tta-lens'
 * assert.strictEqual(dihedral(aliases.d4())?.distinct, 8)
 * @category aliases
 */
export const d4 = (): Product<readonly [T.HorizontalFlip, T.Rotate90<0 | 90 | 180 | 270>]> =>
  product(T.hflip(), T.quarterTurns<0 | 90 | 180 | 270>([0, 90, 180, 270]))

/**
 * `Compose([Rotate90(angles)])`, with 0 prepended when missing. For rotation-invariant inputs;
 * angles that are not multiples of 90 are a `ParamError` (a literal one does not compile).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, views } from 'tta-lens'
 * const r = aliases.rotate90([90, 180])
 * assert.ok(E.isRight(r) && views(r.right).map((v) => v.name).join() === 'identity,Rotate90(90),Rotate90(180)')
 * const angle: number = 30   // known only at run time: checked there
 * assert.ok(E.isLeft(aliases.rotate90([angle])))
 * @category aliases
 */
export const rotate90 = <const A extends readonly number[]>(angles: A & T.CheckAnglesOf<A>): E.Either<ParamError, Product<readonly [T.Rotate90<A[number]>]>> =>
  E.Functor.map(T.rotate90<A>(angles), (f) => product(f))

/**
 * `Compose([Scale(scales, interpolation)])`; 1 is prepended when missing. For models whose errors
 * depend on object size; each scale is a differently sized model input.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, views } from 'tta-lens'
 * const m = aliases.multiscale([0.5, 2], 'bilinear')
 * assert.ok(E.isRight(m) && views(m.right).map((v) => v.params[0]).join() === '1,0.5,2')
 * assert.ok(E.isLeft(aliases.multiscale([0])))
 * @category aliases
 */
export const multiscale = <const K extends readonly number[]>(
  scales: K & CheckNonEmpty<K, 'Scale needs at least one factor'>,
  interpolation: Interpolation = 'nearest',
): E.Either<ParamError, Product<readonly [T.Scale<K[number]>]>> =>
  E.Functor.map(T.scale(scales, { interpolation }), (f) => product(f))

/**
 * `Compose([FiveCrops(h, w)])`: 5 views, labels and boxes only. The classic evaluation protocol for
 * classifiers trained on crops smaller than the test image.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, size } from 'tta-lens'
 * const c = aliases.fiveCrop(24, 24)
 * assert.ok(E.isRight(c) && size(c.right) === 5 && c.right.factors[0].undoes.join() === 'label,boxes')
 * assert.ok(E.isLeft(aliases.fiveCrop(0, 24)))
 * @category aliases
 */
export const fiveCrop = <const H extends number, const W extends number>(height: H, width: W): E.Either<ParamError, Product<readonly [T.FiveCrops<H, W>]>> =>
  E.Functor.map(T.fiveCrops(height, width), (f) => product(f))

/**
 * `Compose([HorizontalFlip(), FiveCrops(h, w)])`: 10 views, labels and boxes only — {@link fiveCrop} of the
 * image and of its mirror.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, views } from 'tta-lens'
 * const t = aliases.tenCrop(24, 24)
 * const names = E.isRight(t) ? views(t.right).map((v) => v.name) : []
 * assert.strictEqual(names.length, 10)
 * assert.strictEqual(names[5], 'HorizontalFlip(true) · FiveCrops(crop_lt)')
 * @category aliases
 */
export const tenCrop = <const H extends number, const W extends number>(height: H, width: W): E.Either<ParamError, Product<readonly [T.HorizontalFlip, T.FiveCrops<H, W>]>> =>
  E.Functor.map(T.fiveCrops(height, width), (f) => product(T.hflip(), f))

/**
 * `Compose([Tiles(h, w, grid)])`: a grid of overlapping `height`×`width` tiles spread evenly over
 * the image (and the whole image first with `whole: true`) — tiled detection of large images.
 * Labels and boxes only, like crops.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, size, transforms as T } from 'tta-lens'
 * const grid = T.tileGrid([600, 1000], [256, 256], 64)
 * const t = aliases.tiles(256, 256, { ...grid, whole: true })
 * assert.ok(E.isRight(t) && size(t.right) === 1 + 3 * 5)
 * @category aliases
 */
export const tiles = <const H extends number, const W extends number, const Whole extends boolean = false>(
  height: H,
  width: W,
  options: T.TileOptions<Whole>,
): E.Either<ParamError, Product<readonly [T.Tiles<H, W, Whole>]>> =>
  E.Functor.map(T.tiles(height, width, options), (f) => product(f))

/**
 * `Translate` by ±`pixels` along each axis: 5 views (no shift, right, left, down, up).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, product, size } from 'tta-lens'
 * const s = aliases.shifts(1)
 * assert.ok(E.isRight(s) && size(product(...aliases.hflip().factors, ...s.right.factors)) === 10)
 * @category aliases
 */
export const shifts = (pixels: number): E.Either<ParamError, Product<readonly [T.Translate<readonly [number, number]>]>> =>
  E.Functor.map(T.translate([[0, pixels], [0, -pixels], [pixels, 0], [-pixels, 0]]), (f) => product(f))
