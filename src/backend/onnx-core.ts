/**
 * ONNX models, whatever runs them: the checked signature both edges share. The user declares a
 * signature (decoded with io-ts: it may come from a JSON file); it is checked against the
 * session's own metadata before the first run — names, ranks, fixed sizes, element type. The
 * result is an ordinary model function — so it plugs into every wrapper — that also carries its
 * `signature`, which the wrappers use for a dry run and for the batch size (a model with a fixed
 * batch of 1 gets one view per call).
 *
 * This module knows no runtime: `tta-lens/node` plugs in onnxruntime-node and the file system,
 * `tta-lens/web` onnxruntime-web and `fetch`, each through {@link OnnxRuntime}.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { modelError, type LimitError, type ModelError } from '../errors.js'
import { decodeWith, showValue, strictObject } from '../guard/decode.js'
import { checkCount, limits } from '../guard/limits.js'
import type { Dim, Shape } from '../tensor/shape.js'
import { assumeOutputs, assumeShape, type Tensor } from '../tensor/trusted.js'
import type { ModelSignature } from '../plan/plan.js'

const DimCodec = t.union([t.number, t.string])
const ShapeCodec = t.readonlyArray(DimCodec)
const SpecCodec = strictObject('spec', { inputs: t.record(t.string, ShapeCodec), outputs: t.record(t.string, ShapeCodec) }, { threads: t.number })
const OpenCodec = strictObject('options', {}, { output: t.string, threads: t.number })

/** Why a model could not be loaded: the file, its signature, or a thread count or file size over {@link limits}. @category errors */
export type LoadError = ModelError | LimitError

/** Threads from an untyped caller: a positive integer up to the limit (100,000 threads would hang onnxruntime). */
const checkThreads = (threads: number | undefined): E.Either<LoadError, void> => {
  if (threads === undefined) return E.right(undefined)
  const counted = checkCount('threads', threads, limits.maxThreads)
  return E.isRight(counted) ? E.right(undefined) : E.left(counted.left._tag === 'LimitError' ? counted.left : modelError(counted.left.message))
}

/** What the user declares about a model. @category model */
export interface OnnxSpec<In extends Shape, Outs extends Readonly<Record<string, Shape>>> {
  /** The image input, by name: exactly one. */
  readonly inputs: Readonly<Record<string, In>>
  /** The outputs used, by name. */
  readonly outputs: Outs
  /** Intra-op threads (default: the runtime's choice; onnxruntime-web takes it as its wasm thread count). */
  readonly threads?: number
}

/** A loaded model: a function the wrappers can call, plus what it is. @category model */
export type OnnxModel<In extends Shape, Outs extends Readonly<Record<string, Shape>>> =
  ((batch: Tensor<In>) => Promise<OutputOf<Outs>>) & {
    readonly signature: ModelSignature
    readonly inputName: string
    readonly outputNames: readonly string[]
    /** What runs it: the runtime and, where there is a choice, the execution provider and why (`'onnxruntime-web webgpu'`). */
    readonly runtime: string
    /** Frees the runtime's session. */
    readonly release: () => Promise<void>
  }

/**
 * One declared output gives a tensor; several give a record (pick one with `outputKey`).
 * @example
 * import { orThrow, zeros, type OutputOf } from 'tta-lens'
 * const mask: OutputOf<{ readonly mask: readonly ['N', 2, 'H', 'W'] }> = orThrow(zeros([1, 2, 4, 4]))
 * const both: OutputOf<{ readonly mask: readonly ['N', 2, 'H', 'W']; readonly edges: readonly ['N', 1, 'H', 'W'] }> =
 *   { mask, edges: orThrow(zeros([1, 1, 4, 4])) }
 * assert.deepStrictEqual([both.mask.shape[1], both.edges.shape[1]], [2, 1])
 * @category type-level
 */
export type OutputOf<Outs extends Readonly<Record<string, Shape>>> = keyof Outs extends infer K
  ? [K] extends [string] ? (IsUnion<K> extends true ? { readonly [P in keyof Outs]: Tensor<Outs[P]> } : Tensor<Outs[K & keyof Outs]>) : never
  : never
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never

/** What a runtime says about one input or output of a model. @category model */
export interface OnnxValueInfo {
  readonly name: string
  /** The element type of a tensor (`'float32'`, …); undefined for a value that is not a tensor. */
  readonly type?: string
  /** The tensor's shape, sizes or symbolic names; empty where the file gives none. */
  readonly shape: readonly (number | string)[]
}

/** An open session, as the checks and the model function need it. @category model */
export interface OnnxSession {
  /** What runs it, for {@link OnnxModel}'s `runtime`. */
  readonly runtime: string
  readonly inputs: readonly OnnxValueInfo[]
  readonly outputs: readonly OnnxValueInfo[]
  /** One run: the float32 input under its name, the named outputs back (their data as the runtime gives it). */
  readonly run: (input: { readonly name: string; readonly data: Float32Array; readonly dims: readonly number[] }, outputs: readonly string[])
    => Promise<Readonly<Record<string, { readonly dims: readonly number[]; readonly data: unknown } | undefined>>>
  readonly release: () => Promise<void>
}

/**
 * What an edge supplies: how to read a model given by name (a path in Node, a URL in the browser),
 * and how to open a session on model bytes.
 * @category model
 */
export interface OnnxRuntime<Options> {
  /** Names the runtime in messages (`'onnxruntime-node'`). */
  readonly name: string
  /** The model's bytes, refusing a source that is not a file or is over {@link limits}.maxFileBytes before reading it. */
  readonly read: (source: string) => Promise<E.Either<LoadError, Uint8Array>>
  readonly create: (bytes: Uint8Array, threads: number | undefined, options: Options) => Promise<OnnxSession>
}

const show = (shape: readonly (number | string)[]): string => `[${shape.join(',')}]`

/** Compares a declared shape with the model's metadata; the model's fixed sizes win. */
const reconcile = (what: string, declared: readonly Dim[], actual: readonly (number | string)[]): E.Either<ModelError, readonly Dim[]> => {
  if (actual.length === 0) return E.right(declared) // no shape in the file: trust the declaration
  if (declared.length !== actual.length) {
    return E.left(modelError(`${what} has rank ${actual.length} ${show(actual)} in the model, but you declared rank ${declared.length} ${show(declared)}`))
  }
  const merged: Dim[] = []
  for (const [i, want] of declared.entries()) {
    const got = actual[i]
    if (typeof want === 'number' && typeof got === 'number' && want !== got) {
      return E.left(modelError(`${what} is ${show(actual)} in the model, but you declared ${show(declared)}: dimension ${i} is ${got}, not ${want}`))
    }
    merged.push(typeof got === 'number' ? got : want)
  }
  return E.right(merged)
}

const describeError = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n').join(' ')
const names = (values: readonly OnnxValueInfo[]): string => values.map((v) => v.name).join(', ')

/**
 * Opens a session on a path/URL or bytes, with the runtime's failures as ModelErrors. `open` words
 * them as "cannot open X: <why>" (the file) and "cannot open X as an ONNX model: <why>" (its bytes).
 */
const openSession = async <Options>(runtime: OnnxRuntime<Options>, source: unknown, threads: number | undefined, options: Options, wording: 'load' | 'open' = 'load'): Promise<E.Either<LoadError, OnnxSession>> => {
  const named = typeof source === 'string' ? JSON.stringify(source) : 'the given bytes'
  let bytes: Uint8Array
  if (source instanceof Uint8Array) bytes = source
  else if (typeof source !== 'string') return E.left(modelError(`a model is a path or a Uint8Array of its bytes, got ${showValue(source)}`))
  else {
    try {
      const read = await runtime.read(source)
      if (E.isLeft(read)) {
        return read.left._tag === 'ModelError' && wording === 'open'
          ? E.left(modelError(read.left.message.replace(/^cannot read the model file/, 'cannot open'), read.left.cause))
          : read
      }
      bytes = read.right
    } catch (e) {
      return E.left(modelError(`${wording === 'open' ? 'cannot open' : 'cannot read the model file'} ${named}: ${describeError(e)}`, e))
    }
  }
  try {
    return E.right(await runtime.create(bytes, threads, options))
  } catch (e) {
    return E.left(modelError(wording === 'open'
      ? `cannot open ${named} as an ONNX model: ${describeError(e)}`
      : `${named} is not a model ${runtime.name} can load: ${describeError(e)}`, e))
  }
}

/** Checks a declared signature against an open session and makes the model function. */
const bind = <const In extends Shape, const Outs extends Readonly<Record<string, Shape>>>(
  session: OnnxSession,
  inputs: Readonly<Record<string, readonly Dim[]>>,
  outputs: Readonly<Record<string, readonly Dim[]>>,
): E.Either<ModelError, OnnxModel<In, Outs>> => {
  const inputEntries = Object.entries(inputs)
  const [input] = inputEntries
  if (input === undefined || inputEntries.length !== 1) return E.left(modelError(`declare exactly one image input, got ${inputEntries.length}`))
  const [inputName, inputShape] = input
  const inputMeta = session.inputs.find((m) => m.name === inputName)
  if (inputMeta === undefined) return E.left(modelError(`the model has no input '${inputName}'; its inputs are ${names(session.inputs)}`))
  if (inputMeta.type !== undefined && inputMeta.type !== 'float32') return E.left(modelError(`input '${inputName}' is ${inputMeta.type}, but tta-lens feeds float32`))
  const reconciledInput = reconcile(`input '${inputName}'`, inputShape, inputMeta.shape)
  if (E.isLeft(reconciledInput)) return reconciledInput
  const outputShapes: [string, readonly Dim[]][] = []
  for (const [name, shape] of Object.entries(outputs)) {
    const meta = session.outputs.find((m) => m.name === name)
    if (meta === undefined) return E.left(modelError(`the model has no output '${name}'; its outputs are ${names(session.outputs)}`))
    const reconciled = reconcile(`output '${name}'`, shape, meta.shape)
    if (E.isLeft(reconciled)) return reconciled
    outputShapes.push([name, reconciled.right])
  }
  const [firstOutput] = outputShapes
  const batch = reconciledInput.right[0]
  const signature: ModelSignature = {
    input: reconciledInput.right,
    ...(firstOutput === undefined ? {} : { output: firstOutput[1] }),
    ...(typeof batch === 'number' ? { maxBatch: batch } : {}),
  }
  const outputNames = outputShapes.map(([name]) => name)

  const call = async (batchTensor: Tensor<In>): Promise<OutputOf<Outs>> => {
    const results = await session.run({ name: inputName, data: batchTensor.data, dims: batchTensor.shape }, outputNames)
    const tensors: Record<string, Tensor<Shape>> = {}
    for (const name of outputNames) {
      const value = results[name]
      if (value === undefined || !(value.data instanceof Float32Array)) throw new Error(`output '${name}' is not a float32 tensor`)
      tensors[name] = assumeShape<Shape>(value.dims, value.data)
    }
    const only = outputNames.length === 1 ? tensors[outputNames[0] ?? ''] : undefined
    // A single declared output is returned bare, several as a record — exactly OutputOf<Outs>.
    return assumeOutputs<OutputOf<Outs>>(only ?? tensors)
  }
  return E.right(Object.assign(call, { signature, inputName, outputNames, runtime: session.runtime, release: () => session.release() }))
}

/** Loads a model with a declared signature, on the given runtime. @internal */
export const loadWith = <Options>(runtime: OnnxRuntime<Options>) =>
  <const In extends Shape, const Outs extends Readonly<Record<string, Shape>>>(
    source: string | Uint8Array,
    spec: OnnxSpec<In, Outs>,
    options: Options,
  ): TE.TaskEither<LoadError, OnnxModel<In, Outs>> => async () => {
    const decoded = decodeWith(SpecCodec, spec, 'the model signature')
    if (E.isLeft(decoded)) return E.left(modelError(`${decoded.left.message} (a signature is { inputs: { name: shape }, outputs: { name: shape }, threads? } with shapes of numbers and names)`))
    const { inputs, outputs, threads } = decoded.right
    const inputCount = Object.keys(inputs).length
    if (inputCount !== 1) return E.left(modelError(`declare exactly one image input, got ${inputCount}`))
    if (Object.keys(outputs).length === 0) return E.left(modelError('declare at least one output'))
    const threadsOk = checkThreads(threads)
    if (E.isLeft(threadsOk)) return threadsOk
    const session = await openSession(runtime, source, threads, options)
    if (E.isLeft(session)) return session
    const model = bind<In, Outs>(session.right, inputs, outputs)
    if (E.isLeft(model)) await session.right.release()
    return model
  }

/** Loads a model and takes its signature from the file, on the given runtime. @internal */
export const openWith = <Options>(runtime: OnnxRuntime<Options>) =>
  (source: string | Uint8Array, rawOptions: { readonly output?: string; readonly threads?: number }, runtimeOptions: Options): TE.TaskEither<LoadError, OnnxModel<Shape, Readonly<Record<string, Shape>>>> => async () => {
    const decoded = decodeWith(OpenCodec, rawOptions, 'onnx.open')
    if (E.isLeft(decoded)) return E.left(modelError(decoded.left.message))
    const options = decoded.right
    const threadsOk = checkThreads(options.threads)
    if (E.isLeft(threadsOk)) return threadsOk
    const session = await openSession(runtime, source, options.threads, runtimeOptions, 'open')
    if (E.isLeft(session)) return session
    const [input, ...more] = session.right.inputs
    const output = options.output === undefined ? session.right.outputs[0] : session.right.outputs.find((m) => m.name === options.output)
    const fail = async (message: string): Promise<E.Either<ModelError, never>> => {
      await session.right.release()
      return E.left(modelError(message))
    }
    if (input === undefined || more.length > 0) return fail(`the model has ${session.right.inputs.length} inputs; tta-lens feeds exactly one image input`)
    if (output === undefined) return fail(`the model has no output '${options.output ?? ''}'; its outputs are ${names(session.right.outputs)}`)
    const model = bind<Shape, Readonly<Record<string, Shape>>>(session.right, { [input.name]: input.shape }, { [output.name]: output.shape })
    if (E.isLeft(model)) await session.right.release()
    return model
  }
