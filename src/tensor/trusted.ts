/**
 * TRUSTED CORE — the only place in the library that asserts a type-level shape.
 *
 * Everything that creates a `Tensor<S>` goes through {@link assumeShape}; callers outside
 * `src/tensor` reach it only through functions whose run-time shape computation mirrors the
 * type-level one (and that mirror is what the shape-law property tests check). Keep this file tiny.
 *
 * @since 0.1.0
 */
import type { Concrete, Dim, Shape } from './shape.js'

declare const shapeType: unique symbol

/**
 * A flat row-major `Float32Array` plus its shape. `S` may hold literal sizes, symbolic names or
 * `number`; at run time `shape` is always the concrete sizes.
 * @category model
 */
export interface Tensor<S extends Shape = Shape> {
  readonly shape: Concrete<S>
  readonly data: Float32Array
  /**
   * Phantom, never present at run time. A symbolic name accepts any size, so a
   * `Tensor<readonly [1, 3, 8, 8]>` can be passed where a `Tensor<readonly ['N', 3, 'H', 'W']>` is
   * expected, while literal sizes must agree. (`| undefined` keeps tsc from appending its
   * `exactOptionalPropertyTypes` hint to every shape error.)
   */
  readonly [shapeType]?: Accepting<S> | undefined
}

/** A shape with its symbolic names widened to "any size". */
type Accepting<S extends Shape> = { readonly [K in keyof S]: S[K] extends string ? Dim : S[K] }

/** Wraps data whose length the caller has already checked against `shape`. @internal */
export const assumeShape = <S extends Shape>(shape: readonly number[], data: Float32Array): Tensor<S> =>
  // The one cast in the library: run-time sizes are asserted to satisfy the type-level shape S.
  ({ shape, data }) as unknown as Tensor<S>

/**
 * Asserts the declared output type of a model whose outputs were just built with
 * {@link assumeShape} from the model's reported sizes (one tensor, or a record by output name). @internal
 */
export const assumeOutputs = <O>(value: Tensor<Shape> | Readonly<Record<string, Tensor<Shape>>>): O =>
  // The second and last cast: a model's declared output type over tensors built above.
  value as unknown as O

/**
 * Asserts a wrapper's declared result type — a tensor, or a record holding one and the uncertainty
 * tensors — for a value whose form the wrapper chose at run time by the same option (`uncertainty`)
 * that selects the type, with every tensor inside built by {@link assumeShape}. @internal
 */
export const assumeOutcome = <O>(value: Tensor<Shape> | { readonly prediction: Tensor<Shape>; readonly uncertainty: Readonly<Record<string, Tensor<Shape>>> }): O =>
  // The third cast: a conditional result type (on the `uncertainty` option) over values built above.
  value as unknown as O
