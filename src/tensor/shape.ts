/**
 * Shapes as readonly tuples, at the type level and at run time.
 *
 * A dimension is a literal size (`224`), a symbolic name for a size known only at run time (`'N'`,
 * `'H'`), or plain `number` (the gradual escape hatch: "some size, not tracked").
 *
 * @since 0.1.0
 */

/** @category model */
export type Dim = number | string

/** @category model */
export type Shape = readonly Dim[]

/** An NCHW image or mask shape. @category model */
export type ImageShape = readonly [Dim, Dim, Dim, Dim]

/** The run-time view of a type-level shape: symbolic names become `number`. @category model */
export type Concrete<S extends Shape> = { readonly [K in keyof S]: S[K] extends number ? S[K] : number }

/** Renders a shape type as text for compile-time error messages, e.g. `[1,3,224,448]`. @category type-level */
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

/** `true` when every dim of `V` fits `I` and the ranks agree. @category type-level */
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
 * @category type-level
 */
export type CheckViewsFit<V extends Shape, I extends Shape> = [Misfits<V, I>] extends [never]
  ? unknown
  : { readonly error: `view ${ShowShape<Misfits<V, I>>} does not fit model input ${ShowShape<I>}` }

/** `unknown` for a rank-`R` shape, otherwise an error naming the rank that was given. @category type-level */
export type CheckRank<S extends Shape, R extends number, What extends string> = number extends S['length']
  ? unknown
  : S['length'] extends R
    ? unknown
    : { readonly error: `${What} must have rank ${R} but this tensor has rank ${S['length']} ${ShowShape<S>}` }

/**
 * The checks on a wrapper's image, in order: rank 4 first, then every view against the model input.
 * Only the first failing check is reported (two `error` strings in one intersection would collide
 * and reduce the parameter to `never`, hiding both messages). @category type-level
 */
export type CheckImage<S extends Shape, V extends Shape, I extends Shape> = unknown extends CheckRank<S, 4, 'the image'>
  ? CheckViewsFit<V, I>
  : CheckRank<S, 4, 'the image'>
