/**
 * Shapes as readonly tuples, at the type level and at run time.
 *
 * A dimension is a literal size (`224`), a symbolic name for a size known only at run time (`'N'`,
 * `'H'`), or plain `number` (the gradual escape hatch: "some size, not tracked").
 *
 * @since 0.1.0
 */

/** One dimension of a shape: a literal size, a symbolic name bound at run time, or an untracked `number`. @category model */
export type Dim = number | string

/** A shape as a readonly tuple of dimensions, outermost first (NCHW for images). @category model */
export type Shape = readonly Dim[]

/** An NCHW image or mask shape. @category model */
export type ImageShape = readonly [Dim, Dim, Dim, Dim]

/**
 * The run-time view of a type-level shape: symbolic names become `number`. It is the type of a
 * tensor's `shape`, so literal sizes stay checked while named ones accept any size.
 * @example
 * ```ts
 * import type { Concrete } from 'tta-lens'
 * const dims: Concrete<readonly ['N', 3, 224, 224]> = [8, 3, 224, 224]
 * // @ts-expect-error the literal channel count 3 is kept
 * const wrong: Concrete<readonly ['N', 3, 224, 224]> = [8, 1, 224, 224]
 * assert.deepStrictEqual([dims[0], wrong[1]], [8, 1])
 * ```
 * @category model
 */
export type Concrete<S extends Shape> = { readonly [K in keyof S]: S[K] extends number ? S[K] : number }

/**
 * Renders a shape type as text for compile-time error messages, e.g. `[1,3,224,448]`.
 * @example
 * import type { ShowShape } from 'tta-lens'
 * const shown: ShowShape<readonly [1, 3, 'H', number]> = '[1,3,H,number]'
 * assert.strictEqual(shown, '[1,3,H,number]')
 * @category type-level
 */
export type ShowShape<S extends Shape> = `[${JoinDims<S>}]`
type JoinDims<S extends Shape> = S extends readonly [infer H extends Dim]
  ? ShowDim<H>
  : S extends readonly [infer H extends Dim, ...infer R extends Shape]
    ? `${ShowDim<H>},${JoinDims<R>}`
    : S extends readonly [] ? '' : '...'
/** An untracked dim reads `number` (not tsc's `${number}` template). */
type ShowDim<D extends Dim> = number extends D ? 'number' : string extends D ? 'string' : `${D}`

/** Does a dimension of a view fit a dimension the consumer declared? Names and `number` accept anything. */
type DimFits<V, I> = I extends string
  ? true
  : number extends I
    ? true
    : V extends I
      ? true
      : number extends V
        ? true // an untracked size cannot be refuted at compile time; it is checked at run time
        : false

type AllFit<V extends Shape, I extends Shape> = V extends readonly [infer V0, ...infer VR extends Shape]
  ? I extends readonly [infer I0, ...infer IR extends Shape]
    ? DimFits<V0, I0> extends true ? AllFit<VR, IR> : false
    : false
  : I extends readonly [] ? true : false

/**
 * `true` when every dim of `V` fits `I` and the ranks agree: a name or `number` in `I` accepts any
 * size, a literal only itself.
 * @example
 * import type { ShapeFits } from 'tta-lens'
 * const fits: ShapeFits<readonly [1, 3, 8, 8], readonly ['N', 3, 'H', 'W']> = true
 * const wrongChannels: ShapeFits<readonly [1, 1, 8, 8], readonly ['N', 3, 'H', 'W']> = false
 * const wrongRank: ShapeFits<readonly [3, 8, 8], readonly ['N', 3, 'H', 'W']> = false
 * assert.deepStrictEqual([fits, wrongChannels, wrongRank], [true, false, false])
 * @category type-level
 */
export type ShapeFits<V extends Shape, I extends Shape> = number extends V['length']
  ? true
  : number extends I['length']
    ? true
    : AllFit<V, I>

/** The members of a union of view shapes that do not fit `I`. @category type-level */
export type Misfits<V extends Shape, I extends Shape> = V extends Shape ? (ShapeFits<V, I> extends true ? never : V) : never

/**
 * `unknown` when every view fits the model input, otherwise an object type whose `error` names the
 * offending view: intersected with a parameter, it turns a misuse into a readable compile error.
 * @example
 * import type { CheckViewsFit } from 'tta-lens'
 * const ok: CheckViewsFit<readonly [1, 3, 8, 8] | readonly [1, 3, 8, 4], readonly ['N', 3, 'H', 'W']> = 'no error'
 * const bad: CheckViewsFit<readonly [1, 3, 8, 8] | readonly [1, 3, 4, 4], readonly ['N', 3, 8, 8]> =
 *   { error: 'view [1,3,4,4] does not fit model input [N,3,8,8]' }
 * assert.strictEqual(ok, 'no error')
 * assert.match(bad.error, /\[1,3,4,4\]/)
 * @category type-level
 */
export type CheckViewsFit<V extends Shape, I extends Shape> = [Misfits<V, I>] extends [never]
  ? unknown
  : { readonly error: `view ${ShowShape<Misfits<V, I>>} does not fit model input ${ShowShape<I>}` }

/**
 * `unknown` for a rank-`R` shape, otherwise an error naming the rank that was given. Intersect it
 * with a parameter to turn a wrong rank into a readable compile error.
 * @example
 * import type { CheckRank } from 'tta-lens'
 * const ok: CheckRank<readonly [1, 3, 8, 8], 4, 'the image'> = 'no error'
 * const bad: CheckRank<readonly [3, 8, 8], 4, 'the image'> =
 *   { error: 'the image must have rank 4 but this tensor has rank 3 [3,8,8]' }
 * assert.strictEqual(ok, 'no error')
 * assert.match(bad.error, /rank 3/)
 * @category type-level
 */
export type CheckRank<S extends Shape, R extends number, What extends string> = number extends S['length']
  ? unknown
  : S['length'] extends R
    ? unknown
    : { readonly error: `${What} must have rank ${R} but this tensor has rank ${S['length']} ${ShowShape<S>}` }

/**
 * The checks on a wrapper's image, in order: rank 4 first, then every view against the model input.
 * Only the first failing check is reported (two `error` strings in one intersection would collide
 * and reduce the parameter to `never`, hiding both messages).
 * @example
 * import type { CheckImage } from 'tta-lens'
 * // A rank-3 image whose view does not fit either: only the rank is reported.
 * const rank: CheckImage<readonly [3, 8, 8], readonly [3, 8, 8], readonly ['N', 3, 4, 4]> =
 *   { error: 'the image must have rank 4 but this tensor has rank 3 [3,8,8]' }
 * const view: CheckImage<readonly [1, 3, 8, 8], readonly [1, 3, 8, 8], readonly ['N', 3, 4, 4]> =
 *   { error: 'view [1,3,8,8] does not fit model input [N,3,4,4]' }
 * assert.notStrictEqual(rank.error, view.error)
 * @category type-level
 */
export type CheckImage<S extends Shape, V extends Shape, I extends Shape> = unknown extends CheckRank<S, 4, 'the image'>
  ? CheckViewsFit<V, I>
  : CheckRank<S, 4, 'the image'>
