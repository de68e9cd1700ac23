/**
 * Type-level shape maps: how a transform's views change an NCHW shape. Each built-in transform
 * carries one of these as a phantom type; a product applies them in order, distributing over the
 * union of parameters, so the views of a product are a union of shapes known at compile time.
 *
 * A scale is a symbolic term (`'8×0.5'`) rather than digit arithmetic: it keeps type-checking
 * cheap and cancels structurally with its inverse ({@link Unscaled}).
 *
 * @since 0.1.0
 */
import type { Dim, ImageShape, Shape, ShowShape } from '../tensor/shape.js'

/** Angles whose turn swaps height and width (within ±1080°). @category type-level */
export type OddQuarterAngle = 90 | 270 | 450 | 630 | 810 | 990 | -90 | -270 | -450 | -630 | -810 | -990
/** Angles whose turn keeps height and width (within ±1080°). @category type-level */
export type EvenQuarterAngle = 0 | 180 | 360 | 540 | 720 | 900 | 1080 | -180 | -360 | -540 | -720 | -900 | -1080
/**
 * The common literal right angles. Any literal multiple of 90 is checked (by `QuarterOf`); other `number`s at run time.
 * @example
 * ```ts
 * import type { RightAngle } from 'tta-lens'
 * const turns: readonly RightAngle[] = [90, -270, 1080]
 * // @ts-expect-error 45 is not a right angle
 * const half: RightAngle = 45
 * assert.deepStrictEqual([...turns, half].map((a) => Math.abs(a % 90)), [0, 0, 0, 45])
 * ```
 * @category type-level
 */
export type RightAngle = OddQuarterAngle | EvenQuarterAngle

type DigitTally = { '0': []; '1': [0]; '2': [0, 0]; '3': [0, 0, 0]; '4': [0, 0, 0, 0]; '5': [0, 0, 0, 0, 0]; '6': [0, 0, 0, 0, 0, 0]; '7': [0, 0, 0, 0, 0, 0, 0]; '8': [0, 0, 0, 0, 0, 0, 0, 0]; '9': [0, 0, 0, 0, 0, 0, 0, 0, 0] }
type Mod9<T extends readonly unknown[]> = T extends readonly [0, 0, 0, 0, 0, 0, 0, 0, 0, ...infer R] ? R : T
/** The digit sum of a decimal string, mod 9; -1 when it is not all digits. */
type DigitSumMod9<S extends string, Acc extends readonly unknown[] = []> = S extends `${infer D extends keyof DigitTally}${infer R}`
  ? DigitSumMod9<R, Mod9<[...Acc, ...DigitTally[D]]>>
  : S extends '' ? Acc['length'] : -1
/**
 * Is a numeric literal a multiple of 90, and is the number of quarter turns odd (H and W swap)?
 * Decimal digits, no arithmetic: `n = 90k` exactly when `n` ends in 0 and the digits before sum to a
 * multiple of 9; `k` is odd exactly when the digit before that 0 is. @category type-level
 */
export type QuarterOf<A extends number> = (`${A}` extends `-${infer M}` ? M : `${A}`) extends `${infer R}0`
  ? (DigitSumMod9<R> extends 0 ? (R extends `${string}${1 | 3 | 5 | 7 | 9}` ? 'odd' : 'even') : 'none')
  : 'none'

/**
 * `unknown` for a parameter list that may hold something, `{ error: Message }` for a literal empty
 * one (`[]`): what makes `scale([])` fail to compile. A `number[]` is checked at run time.
 * @example
 * import type { CheckNonEmpty } from 'tta-lens'
 * const ok: CheckNonEmpty<readonly [2], 'Scale needs at least one factor'> = 'no error'
 * const open: CheckNonEmpty<readonly number[], 'Scale needs at least one factor'> = 'no error'
 * const bad: CheckNonEmpty<readonly [], 'Scale needs at least one factor'> = { error: 'Scale needs at least one factor' }
 * assert.deepStrictEqual([ok, open, bad.error], ['no error', 'no error', 'Scale needs at least one factor'])
 * @category type-level
 */
export type CheckNonEmpty<L extends readonly unknown[], Message extends string> = L extends readonly [] ? { readonly error: Message } : unknown

/**
 * `unknown` when every literal angle is a right angle, else an error naming the bad one: what makes
 * `rotate90([45])` fail to compile. A literal empty list fails too (`rotate90([])`).
 * @example
 * import type { CheckAngles } from 'tta-lens'
 * const ok: CheckAngles<readonly [0, 90, 3690]> = 'no error'
 * const bad: CheckAngles<readonly [90, 100]> = { error: 'Rotate90 turns by multiples of 90°, and 100° is not one' }
 * const none: CheckAngles<readonly []> = { error: 'Rotate90 needs at least one angle' }
 * assert.strictEqual(ok, 'no error')
 * assert.match(bad.error, /100°/)
 * assert.match(none.error, /at least one/)
 * @category type-level
 */
export type CheckAngles<A extends readonly number[]> = A extends readonly []
  ? CheckNonEmpty<A, 'Rotate90 needs at least one angle'>
  : [BadAngles<A[number]>] extends [never]
    ? unknown
    : { readonly error: `Rotate90 turns by multiples of 90°, and ${BadAngles<A[number]>}° is not one` }
type BadAngles<A> = A extends number ? (number extends A ? never : QuarterOf<A> extends 'none' ? A : never) : never

/**
 * A dimension scaled by a factor, kept symbolic: the view shapes of `Scale` read `'H×0.5'` instead of
 * a computed number, which keeps type-checking cheap.
 * @example
 * import type { Scaled } from 'tta-lens'
 * const half: Scaled<'H', 0.5> = 'H×0.5'
 * const same: Scaled<224, 1> = 224
 * assert.deepStrictEqual([half, same], ['H×0.5', 224])
 * @category type-level
 */
export type Scaled<D extends Dim, K extends number> = K extends 1 ? D : `${D}×${K}`
/**
 * Undoes {@link Scaled}: `Unscaled<Scaled<D, K>, K>` is `D`, so a mask scaled back is known to have
 * the input's size.
 * @example
 * import type { Scaled, Unscaled } from 'tta-lens'
 * const back: Unscaled<Scaled<224, 2>, 2> = 224
 * const named: Unscaled<Scaled<'W', 0.5>, 0.5> = 'W'
 * const other: Unscaled<'W', 2> = 'W÷2'   // nothing to cancel: kept symbolic
 * assert.deepStrictEqual([back, named, other], [224, 'W', 'W÷2'])
 * @category type-level
 */
export type Unscaled<D extends Dim, K extends number> = K extends 1
  ? D
  : D extends `${infer X}×${K}` ? (X extends `${infer N extends number}` ? N : X) : `${D}÷${K}`

/**
 * Is a numeric literal an integer? (`2` yes, `1.5` no; plain `number` unknown → false)
 * @example
 * import type { IsInteger } from 'tta-lens'
 * const two: IsInteger<2> = true
 * const half: IsInteger<1.5> = false
 * const unknownNumber: IsInteger<number> = false
 * assert.deepStrictEqual([two, half, unknownNumber], [true, false, false])
 * @category type-level
 */
export type IsInteger<K extends number> = number extends K ? false : `${K}` extends `${string}.${string}` ? false : true

/** How one factor's views change an NCHW shape, as a phantom type on the factor (see {@link ApplyMap}). @category type-level */
export type ShapeMap =
  | { readonly map: 'same' }
  | { readonly map: 'turn'; readonly angle: number }
  | { readonly map: 'scale'; readonly factor: number }
  | { readonly map: 'resize'; readonly size: readonly [number, number] }
  | { readonly map: 'crop'; readonly size: readonly [number, number] }
  | { readonly map: 'custom'; readonly from: ImageShape; readonly to: ImageShape }

/** @category type-level */
export type Swap<S extends Shape> = S extends readonly [infer B, infer C, infer H, infer W] ? readonly [B, C, W, H] : S

type TurnOf<S extends Shape, A extends number> = A extends unknown
  ? number extends A ? S | Swap<S> : QuarterOf<A> extends 'odd' ? Swap<S> : S
  : never

type ScaleOf<S extends Shape, K extends number> = K extends unknown
  ? number extends K
    ? readonly [S[0], S[1], number, number]
    : S extends readonly [infer B, infer C, infer H extends Dim, infer W extends Dim] ? readonly [B, C, Scaled<H, K>, Scaled<W, K>] : S
  : never

type ResizeOf<S extends Shape, Z extends readonly [number, number]> = Z extends unknown
  ? S extends readonly [infer B, infer C, Dim, Dim] ? readonly [B, C, Z[0], Z[1]] : S
  : never

/** Binds the names of a pattern shape to the dims of an actual shape. */
type Bind<P extends Shape, S extends Shape, Acc = unknown> = P extends readonly [infer P0, ...infer PR extends Shape]
  ? S extends readonly [infer S0, ...infer SR extends Shape]
    ? Bind<PR, SR, P0 extends string ? Acc & { readonly [K in P0]: S0 } : Acc>
    : Acc
  : Acc
type Subst<P extends Shape, B> = { readonly [K in keyof P]: P[K] extends keyof B ? B[P[K]] : P[K] }

/**
 * The shape(s) of the views that map `M` makes from an input of shape `S`: a union when the factor's
 * options give different shapes.
 * @example
 * ```ts
 * import type { ApplyMap, ShowShape } from 'tta-lens'
 * type Turned = ApplyMap<{ readonly map: 'turn'; readonly angle: 0 | 90 }, readonly [1, 3, 'H', 'W']>
 * const shapes: readonly ShowShape<Turned>[] = ['[1,3,H,W]', '[1,3,W,H]']
 * // @ts-expect-error the batch and channel dims never move
 * const wrong: ShowShape<Turned> = '[3,1,H,W]'
 * assert.strictEqual([...shapes, wrong].length, 3)
 * ```
 * @category type-level
 */
export type ApplyMap<M extends ShapeMap, S extends Shape> = S extends Shape
  ? M extends { readonly map: 'same' } ? S
    : M extends { readonly map: 'turn'; readonly angle: infer A extends number } ? TurnOf<S, A>
    : M extends { readonly map: 'scale'; readonly factor: infer K extends number } ? ScaleOf<S, K>
    : M extends { readonly map: 'resize'; readonly size: infer Z extends readonly [number, number] } ? ResizeOf<S, Z>
    : M extends { readonly map: 'crop'; readonly size: infer Z extends readonly [number, number] } ? ResizeOf<S, Z>
    // A custom factor's options are [false, true]: its views are the input itself and the gather.
    : M extends { readonly map: 'custom'; readonly from: infer F extends Shape; readonly to: infer T extends Shape } ? S | Subst<T, Bind<F, S>>
    : never
  : never

/**
 * Applies a list of maps in order (first transform first), as a product does with its factors.
 * @example
 * import type { ApplyMaps, ShowShape } from 'tta-lens'
 * type Views = ApplyMaps<[{ readonly map: 'scale'; readonly factor: 2 }, { readonly map: 'crop'; readonly size: readonly [4, 4] }], readonly [1, 3, 8, 8]>
 * const view: ShowShape<Views> = '[1,3,4,4]'
 * assert.strictEqual(view, '[1,3,4,4]')
 * @category type-level
 */
export type ApplyMaps<Ms extends readonly ShapeMap[], S extends Shape> = Ms extends readonly [infer M extends ShapeMap, ...infer R extends readonly ShapeMap[]]
  ? ApplyMaps<R, ApplyMap<M, S>>
  : S

export type { ShowShape }
