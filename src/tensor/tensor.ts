/**
 * `Tensor<S>`: a flat `Float32Array` in row-major order plus a shape that the type carries.
 *
 * Constructors check the data length against the shape at run time and return an `Either`;
 * {@link decode} also checks a value from untyped JavaScript against a declared shape that may use
 * symbolic names (the same name must bind the same size everywhere).
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, type AllocationError, type LimitError, type NonFiniteError, type ShapeError } from '../errors.js'
import { checkFinite } from '../guard/finite.js'
import { allocate, checkElements } from '../guard/limits.js'
import { safeString, showValue } from '../guard/decode.js'
import type { Concrete, Dim, Shape } from './shape.js'
import { assumeShape, type Tensor } from './trusted.js'

export type { Tensor } from './trusted.js'

const describe = (shape: readonly number[]): string => `[${shape.join(',')}]`

/**
 * Number of elements of a run-time shape: the length a tensor's `data` must have, and what to
 * allocate for a buffer of that shape.
 * @example
 * import { sizeOf } from 'tta-lens'
 * assert.strictEqual(sizeOf([2, 3, 4, 5]), 120)
 * assert.strictEqual(sizeOf([]), 1)   // a scalar holds one value
 * @category utils
 */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1)

/** Why a tensor could not be built: a bad shape or data, a size over the limit, a non-finite value, or no memory. @category errors */
export type TensorError = ShapeError | LimitError | NonFiniteError | AllocationError

const checkDims = (shape: unknown): E.Either<ShapeError, readonly number[]> => {
  if (!Array.isArray(shape)) return E.left(shapeError(`a shape must be an array of positive integers, got ${showValue(shape)}`))
  const dims: number[] = []
  for (const [i, d] of shape.entries()) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d <= 0) {
      return E.left(shapeError(`dimension ${i} of shape ${safeString(shape)} must be a positive integer, got ${safeString(d)}`))
    }
    dims.push(d)
  }
  return E.right(dims)
}

/** Dims that are positive integers and whose product is within the element limit. */
const checkShape = (shape: unknown): E.Either<ShapeError | LimitError, readonly number[]> =>
  E.flatMap(checkDims(shape), (dims) => E.Functor.map(checkElements('a tensor of shape', dims), () => dims))

const isNumberList = (data: unknown): data is ArrayLike<number> =>
  Array.isArray(data) || (ArrayBuffer.isView(data) && !(data instanceof DataView) && !(data instanceof BigInt64Array) && !(data instanceof BigUint64Array))

/**
 * Copies data from outside into a Float32Array after checking that it is a list of `expected`
 * finite numbers (after rounding to float32: 1e39 in a Float64Array becomes Infinity).
 */
const float32Data = (data: unknown, dims: readonly number[], expected: number): E.Either<ShapeError | NonFiniteError, Float32Array> => {
  if (!isNumberList(data)) return E.left(shapeError(`data must be an array or a typed array of numbers, got ${showValue(data)}`))
  if (data.length !== expected) return E.left(shapeError(`shape ${describe(dims)} needs ${expected} values but ${data.length} were given`))
  if (Array.isArray(data)) {
    const bad = data.findIndex((v) => typeof v !== 'number')
    if (bad >= 0) return E.left(shapeError(`data[${bad}] must be a number, got ${showValue(data[bad])}`))
  }
  // Copy so that nothing the caller holds can change the tensor afterwards (and vice versa).
  const copy = Float32Array.from(data)
  return E.Functor.map(checkFinite(copy, 'tensor data'), () => copy)
}

/**
 * Builds a tensor from a literal shape and its data.
 *
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { tensor } from 'tta-lens'
 * const t = tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])   // Either<ShapeError, Tensor<readonly [1,1,2,3]>>
 * assert.ok(E.isRight(t))
 * assert.ok(E.isLeft(tensor([2, 2], [1, 2, 3])))       // 3 values cannot fill [2,2]
 * @category constructors
 */
export const tensor = <const S extends readonly number[]>(
  shape: S,
  data: ArrayLike<number>,
): E.Either<TensorError, Tensor<S>> =>
  E.flatMap(checkShape(shape), (dims): E.Either<TensorError, Tensor<S>> =>
    E.Functor.map(float32Data(data, dims, sizeOf(dims)), (copy) => assumeShape<S>(dims, copy)))

/**
 * A tensor of zeros, with the shape checked as in {@link tensor}: a starting buffer, a blank mask
 * or a dummy input for a dry run without inventing data.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { zeros } from 'tta-lens'
 * const z = zeros([1, 2, 3])
 * assert.ok(E.isRight(z) && z.right.data.length === 6 && z.right.data.every((v) => v === 0))
 * assert.ok(E.isLeft(zeros([2, 0])))   // every dimension must be a positive integer
 * @category constructors
 */
export const zeros = <const S extends readonly number[]>(shape: S): E.Either<TensorError, Tensor<S>> =>
  E.flatMap(checkShape(shape), (dims): E.Either<TensorError, Tensor<S>> =>
    E.Functor.map(allocate(Float32Array, sizeOf(dims), `a tensor of shape ${describe(dims)}`), (data) => assumeShape<S>(dims, data)))

/**
 * Checks a value that should be a tensor made by this library — from a caller without types it may
 * be anything: an object with a `shape` of positive integers within the element limit and a
 * `Float32Array` of exactly that many finite values. `what` names it in the error.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { checkTensor } from 'tta-lens'
 * assert.ok(E.isRight(checkTensor({ shape: [1, 2], data: Float32Array.of(1, 2) }, 'the mask')))
 * const short = checkTensor({ shape: [1, 2], data: Float32Array.of(1) }, 'the mask')
 * assert.ok(E.isLeft(short) && short.left.message === 'the mask has shape [1,2], which needs 2 values, but its data has 1')
 * const nan = checkTensor({ shape: [2], data: Float32Array.of(1, NaN) }, 'the mask')
 * assert.ok(E.isLeft(nan) && nan.left._tag === 'NonFiniteError')
 * @category constructors
 */
export const checkTensor = (value: unknown, what: string): E.Either<TensorError, { readonly shape: readonly number[]; readonly data: Float32Array }> => {
  if (typeof value !== 'object' || value === null || !('shape' in value) || !('data' in value) || !(value.data instanceof Float32Array)) {
    return E.left(shapeError(`${what} must be a tensor {shape, data: Float32Array}, got ${showValue(value)}`))
  }
  const data = value.data
  return E.flatMap(checkDims(value.shape), (dims): E.Either<TensorError, { readonly shape: readonly number[]; readonly data: Float32Array }> => {
    const size = checkElements(what, dims)
    if (E.isLeft(size)) return size
    if (data.length !== size.right) return E.left(shapeError(`${what} has shape ${describe(dims)}, which needs ${size.right} values, but its data has ${data.length}`))
    return E.Functor.map(checkFinite(data, what), () => ({ shape: dims, data }))
  })
}

/**
 * Checks a value from untyped code (or a `Tensor<Shape>` of unknown shape) against a declared shape.
 * Literal dims must match exactly; a symbolic name binds on first use and must agree afterwards.
 *
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { decode } from 'tta-lens'
 * const image = decode(['N', 3, 'H', 'W'], { shape: [1, 3, 2, 2], data: new Float32Array(12) })
 * assert.ok(E.isRight(image))
 * assert.ok(E.isLeft(decode(['N', 3, 'H', 'W'], { shape: [3, 2, 2], data: new Float32Array(12) })))
 * @category constructors
 */
export const decode = <const S extends Shape>(spec: S, value: unknown): E.Either<TensorError, Tensor<S>> => {
  const declared: unknown = spec
  if (!Array.isArray(declared) || !declared.every((d) => typeof d === 'string' || (typeof d === 'number' && Number.isInteger(d) && d > 0))) {
    return E.left(shapeError(`a declared shape is an array of positive integers and names, got ${safeString(declared)}`))
  }
  if (typeof value !== 'object' || value === null || !('shape' in value) || !('data' in value)) {
    return E.left(shapeError('expected a tensor: an object with `shape` and `data`'))
  }
  const { shape, data } = value
  if (!Array.isArray(shape)) return E.left(shapeError('`shape` must be an array of positive integers'))
  if (!(data instanceof Float32Array) && !Array.isArray(data)) {
    return E.left(shapeError('`data` must be a Float32Array or an array of numbers'))
  }
  return E.flatMap(checkShape(shape), (dims): E.Either<TensorError, Tensor<S>> => {
    const bound = bindShape(spec, dims)
    if (E.isLeft(bound)) return bound
    return E.Functor.map(float32Data(data, dims, sizeOf(dims)), (copy) => assumeShape<S>(dims, copy))
  })
}

const showSpec = (spec: readonly Dim[]): string => `[${spec.map(String).join(',')}]`

/**
 * Matches run-time sizes against a declared shape: literal dims must be equal, a symbolic name
 * binds on first use and must agree afterwards. Returns the bindings.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { bindShape } from 'tta-lens'
 * const b = bindShape(['N', 3, 'S', 'S'], [2, 3, 8, 8])
 * assert.ok(E.isRight(b) && b.right.get('S') === 8)
 * assert.ok(E.isLeft(bindShape(['N', 3, 'S', 'S'], [2, 3, 8, 6])))
 * @category utils
 */
export const bindShape = (spec: readonly Dim[], dims: readonly number[]): E.Either<ShapeError, ReadonlyMap<string, number>> => {
  if (dims.length !== spec.length) {
    return E.left(shapeError(`expected rank ${spec.length} ${showSpec(spec)} but got rank ${dims.length} ${describe(dims)}`))
  }
  const bound = new Map<string, number>()
  for (const [i, want] of spec.entries()) {
    const got = dims[i] ?? 0
    if (typeof want === 'number') {
      if (want !== got) return E.left(shapeError(`dimension ${i} must be ${want} ${showSpec(spec)} but is ${got} ${describe(dims)}`))
    } else {
      const prior = bound.get(want)
      if (prior !== undefined && prior !== got) {
        return E.left(shapeError(`dimension '${want}' is ${prior} earlier but ${got} at position ${i} of ${describe(dims)}`))
      }
      bound.set(want, got)
    }
  }
  return E.right(bound)
}

/** The run-time shape as a plain number array. @category utils */
export const dims = <S extends Shape>(t: Tensor<S>): readonly number[] => t.shape

/**
 * Value at a multi-index (row-major), for reading single entries without computing flat offsets by
 * hand. An index of the wrong length or outside a dimension reads `NaN`, never a neighbouring entry.
 * @example
 * import { at, orThrow, tensor } from 'tta-lens'
 * const t = orThrow(tensor([2, 3], [0, 1, 2, 3, 4, 5]))
 * assert.strictEqual(at(t, [1, 2]), 5)
 * assert.strictEqual(at(t, [0, 1]), 1)
 * assert.ok(Number.isNaN(at(t, [0, 3])))
 * @category utils
 */
export const at = (t: Tensor<Shape>, index: readonly number[]): number => {
  if (index.length !== t.shape.length) return Number.NaN
  let flat = 0
  for (const [axis, size] of t.shape.entries()) {
    const i = index[axis] ?? -1
    if (!Number.isInteger(i) || i < 0 || i >= size) return Number.NaN
    flat = flat * size + i
  }
  return t.data[flat] ?? Number.NaN
}

export type { Concrete }
