/**
 * What a model is to the wrappers: any async function from a batch tensor (plus extra arguments
 * that pass through unchanged) to a tensor or a record of tensors. Its parameter type is its input
 * signature: `(x: Tensor<readonly ['N', 3, 224, 224]>) => …` declares a fixed 224×224 input, and a
 * wrapper refuses at compile time to feed it views of another size.
 *
 * Outputs come from user code, so they are decoded with io-ts before use.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { modelError, type ModelError } from '../errors.js'
import type { Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/trusted.js'

/** What a model may return: one tensor, or a record of tensors (pick one with `outputKey`). @category model */
export type ModelOutput = Tensor<Shape> | { readonly [key: string]: Tensor<Shape> }

/** The type of a model function; its `In` parameter is the input signature the wrappers check views against. @category model */
export type Model<In extends Shape = Shape, Out extends ModelOutput = ModelOutput, X extends readonly unknown[] = readonly unknown[]> =
  (batch: Tensor<In>, ...extra: X) => Promise<Out>

/** The declared input shape of a model type (`Shape` when undeclared). @category type-level */
export type ModelInput<M> = M extends (batch: Tensor<infer In>, ...extra: never) => unknown ? In : Shape
/** The extra arguments a model takes after the batch. @category type-level */
export type ModelExtra<M> = M extends (batch: never, ...extra: infer X) => unknown ? ([X] extends [never] ? [] : X) : []
/** The tensor a model returns, after picking `Key` from a record output. @category type-level */
export type ModelTensor<M, Key> = M extends (batch: never, ...extra: never) => Promise<infer O>
  ? O extends Tensor<Shape> ? O : Key extends keyof O ? O[Key] : Tensor<Shape>
  : Tensor<Shape>
/** The keys of a record output (never for a plain tensor output). @category type-level */
export type OutputKey<M> = M extends (batch: never, ...extra: never) => Promise<infer O>
  ? O extends Tensor<Shape> ? never : Extract<keyof O, string>
  : string

/** How the wrappers call a model: method syntax keeps the user's declared input type usable. @internal */
export interface Callable {
  call(batch: Tensor<Shape>, ...extra: readonly unknown[]): Promise<unknown>
}

const Float32ArrayCodec = new t.Type<Float32Array, Float32Array, unknown>(
  'Float32Array',
  (u): u is Float32Array => u instanceof Float32Array,
  (u, c) => (u instanceof Float32Array ? t.success(u) : t.failure(u, c, 'data must be a Float32Array')),
  t.identity,
)
const TensorLike = t.type({ shape: t.readonlyArray(t.number), data: Float32ArrayCodec })

/** Decoded model output: a run-time shape and its data. @category model */
export interface RawTensor {
  readonly shape: readonly number[]
  readonly data: Float32Array
}

/** Picks and checks the output tensor of one model call. @category destructors */
export const decodeOutput = (output: unknown, outputKey: string | undefined, view: string): E.Either<ModelError, RawTensor> => {
  let value: unknown = output
  if (outputKey !== undefined) {
    if (typeof output !== 'object' || output === null || !(outputKey in output)) {
      return E.left(modelError(`the model's output for view '${view}' has no key '${outputKey}'`))
    }
    value = Object.entries(output).find(([k]) => k === outputKey)?.[1]
  }
  const decoded = TensorLike.decode(value)
  if (E.isLeft(decoded)) {
    const hint = outputKey === undefined && typeof value === 'object' && value !== null && !('shape' in value)
      ? ` (it looks like a record with keys ${Object.keys(value).join(', ')}: pass outputKey)` : ''
    return E.left(modelError(`the model's output for view '${view}' is not a tensor {shape, data: Float32Array}${hint}`))
  }
  const { shape, data } = decoded.right
  const size = shape.reduce((a, d) => a * d, 1)
  if (!shape.every((d) => Number.isInteger(d) && d > 0) || size !== data.length) {
    return E.left(modelError(`the model's output for view '${view}' has shape [${shape.join(',')}] but ${data.length} values`))
  }
  return E.right({ shape, data })
}

/** Calls the model, turning a throw or rejection into a `ModelError`. @category destructors */
export const callModel = async (model: Callable, batch: Tensor<Shape>, extra: readonly unknown[], view: string): Promise<E.Either<ModelError, unknown>> => {
  try {
    return E.right(await model.call(batch, ...extra))
  } catch (cause) {
    return E.left(modelError(`the model failed on view '${view}': ${cause instanceof Error ? cause.message : String(cause)}`, cause))
  }
}
