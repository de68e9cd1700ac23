/**
 * ONNX models through onnxruntime-node. `load` reads a model from a path or bytes, decodes the
 * signature the user declares (io-ts: it may come from a JSON file), and checks it against the
 * session's own metadata before the first run: names, ranks, fixed sizes, element type. The result
 * is an ordinary model function — so it plugs into every wrapper — that also carries its
 * `signature`, which the wrappers use for a dry run and for the batch size (a model with a fixed
 * batch of 1 gets one view per call).
 *
 * @since 0.2.0
 */
import { readFile, stat } from 'node:fs/promises'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import * as ort from 'onnxruntime-node'
import { limitError, modelError, type LimitError, type ModelError } from '../errors.js'
import { decodeWith, showValue, strictObject } from '../guard/decode.js'
import { checkCount, limits } from '../guard/limits.js'
import type { Dim, Shape } from '../tensor/shape.js'
import { assumeOutputs, assumeShape, type Tensor } from '../tensor/trusted.js'
import type { ModelSignature } from '../plan/plan.js'

const DimCodec = t.union([t.number, t.string])
const ShapeCodec = t.readonlyArray(DimCodec)
const SpecCodec = strictObject('spec', { inputs: t.record(t.string, ShapeCodec), outputs: t.record(t.string, ShapeCodec) }, { threads: t.number })
const OpenCodec = strictObject('options', {}, { output: t.string, threads: t.number })

/** Why a model could not be loaded: the file, its signature, or a thread count over {@link limits}.maxThreads. @category errors */
export type LoadError = ModelError | LimitError

/** Threads from an untyped caller: a positive integer up to the limit (100,000 threads would hang onnxruntime). */
const checkThreads = (threads: number | undefined): E.Either<LoadError, void> => {
  if (threads === undefined) return E.right(undefined)
  const counted = checkCount('threads', threads, limits.maxThreads)
  return E.isRight(counted) ? E.right(undefined) : E.left(counted.left._tag === 'LimitError' ? counted.left : modelError(counted.left.message))
}

/** The model's bytes: a path is checked to be a file within {@link limits}.maxFileBytes before it is read. */
const modelBytes = async (source: unknown): Promise<E.Either<LoadError, Uint8Array>> => {
  if (source instanceof Uint8Array) return E.right(source)
  if (typeof source !== 'string') return E.left(modelError(`a model is a path or a Uint8Array of its bytes, got ${showValue(source)}`))
  try {
    const info = await stat(source)
    if (!info.isFile()) return E.left(modelError(`cannot read the model file ${JSON.stringify(source)}: it is not a file`))
    if (info.size > limits.maxFileBytes) {
      return E.left(limitError('maxFileBytes', info.size, limits.maxFileBytes, `the model file ${JSON.stringify(source)} has ${info.size} bytes; the limit is ${limits.maxFileBytes}`))
    }
    return E.right(await readFile(source))
  } catch (e) {
    return E.left(modelError(`cannot read the model file ${JSON.stringify(source)}: ${describeError(e)}`, e))
  }
}

/** What the user declares about a model. @category model */
export interface OnnxSpec<In extends Shape, Outs extends Readonly<Record<string, Shape>>> {
  /** The image input, by name: exactly one. */
  readonly inputs: Readonly<Record<string, In>>
  /** The outputs used, by name. */
  readonly outputs: Outs
  /** Intra-op threads (default: onnxruntime's choice). */
  readonly threads?: number
}

/** A loaded model: a function the wrappers can call, plus what it is. @category model */
export type OnnxModel<In extends Shape, Outs extends Readonly<Record<string, Shape>>> =
  ((batch: Tensor<In>) => Promise<OutputOf<Outs>>) & {
    readonly signature: ModelSignature
    readonly inputName: string
    readonly outputNames: readonly string[]
    /** Frees the native session. */
    readonly release: () => Promise<void>
  }

/**
 * One declared output gives a tensor; several give a record (pick one with `outputKey`).
 * @example
 * import { orThrow, zeros, type onnx } from 'tta-lens'
 * const mask: onnx.OutputOf<{ readonly mask: readonly ['N', 2, 'H', 'W'] }> = orThrow(zeros([1, 2, 4, 4]))
 * const both: onnx.OutputOf<{ readonly mask: readonly ['N', 2, 'H', 'W']; readonly edges: readonly ['N', 1, 'H', 'W'] }> =
 *   { mask, edges: orThrow(zeros([1, 1, 4, 4])) }
 * assert.deepStrictEqual([both.mask.shape[1], both.edges.shape[1]], [2, 1])
 * @category type-level
 */
export type OutputOf<Outs extends Readonly<Record<string, Shape>>> = keyof Outs extends infer K
  ? [K] extends [string] ? (IsUnion<K> extends true ? { readonly [P in keyof Outs]: Tensor<Outs[P]> } : Tensor<Outs[K & keyof Outs]>) : never
  : never
type IsUnion<T, U = T> = T extends unknown ? ([U] extends [T] ? false : true) : never

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

/**
 * Loads an ONNX model and checks the declared signature against the file.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { onnx } from 'tta-lens'
 * const model = await onnx.load('spec/fixtures/models/seg_conv1x1_sigmoid.onnx', {
 *   inputs: { image: ['N', 3, 'H', 'W'] },
 *   outputs: { mask: ['N', 2, 'H', 'W'] },
 * })()
 * assert.ok(E.isRight(model) && model.right.signature.output?.[1] === 2)
 * const wrong = await onnx.load('spec/fixtures/models/seg_conv1x1_sigmoid.onnx', {
 *   inputs: { image: ['N', 3, 'H', 'W'] },
 *   outputs: { mask: ['N', 3, 'H', 'W'] },
 * })()
 * assert.ok(E.isLeft(wrong) && /dimension 1 is 2, not 3/.test(wrong.left.message))
 * @category constructors
 */
export const load = <const In extends Shape, const Outs extends Readonly<Record<string, Shape>>>(
  source: string | Uint8Array,
  spec: OnnxSpec<In, Outs>,
): TE.TaskEither<LoadError, OnnxModel<In, Outs>> => async () => {
  const decoded = decodeWith(SpecCodec, spec, 'the model signature')
  if (E.isLeft(decoded)) return E.left(modelError(`${decoded.left.message} (a signature is { inputs: { name: shape }, outputs: { name: shape }, threads? } with shapes of numbers and names)`))
  const { inputs, outputs, threads } = decoded.right
  const inputEntries = Object.entries(inputs)
  const [input] = inputEntries
  if (input === undefined || inputEntries.length !== 1) return E.left(modelError(`declare exactly one image input, got ${inputEntries.length}`))
  if (Object.keys(outputs).length === 0) return E.left(modelError('declare at least one output'))
  const threadsOk = checkThreads(threads)
  if (E.isLeft(threadsOk)) return threadsOk

  const read = await modelBytes(source)
  if (E.isLeft(read)) return read
  const bytes = read.right
  let session: ort.InferenceSession
  try {
    session = await ort.InferenceSession.create(bytes, threads === undefined ? {} : { intraOpNumThreads: threads, interOpNumThreads: 1 })
  } catch (e) {
    return E.left(modelError(`${typeof source === 'string' ? JSON.stringify(source) : 'the given bytes'} is not a model onnxruntime can load: ${describeError(e)}`, e))
  }

  const [inputName, inputShape] = input
  const inputMeta = session.inputMetadata.find((m) => m.name === inputName)
  if (inputMeta === undefined) return E.left(modelError(`the model has no input '${inputName}'; its inputs are ${session.inputNames.join(', ')}`))
  if (inputMeta.isTensor && inputMeta.type !== 'float32') return E.left(modelError(`input '${inputName}' is ${inputMeta.type}, but tta-lens feeds float32`))
  const reconciledInput = reconcile(`input '${inputName}'`, inputShape, inputMeta.isTensor ? inputMeta.shape : [])
  if (E.isLeft(reconciledInput)) return reconciledInput
  const outputShapes: [string, readonly Dim[]][] = []
  for (const [name, shape] of Object.entries(outputs)) {
    const meta = session.outputMetadata.find((m) => m.name === name)
    if (meta === undefined) return E.left(modelError(`the model has no output '${name}'; its outputs are ${session.outputNames.join(', ')}`))
    const reconciled = reconcile(`output '${name}'`, shape, meta.isTensor ? meta.shape : [])
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
    const feeds = { [inputName]: new ort.Tensor('float32', batchTensor.data, batchTensor.shape) }
    const results = await session.run(feeds, outputNames)
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
  return E.right(Object.assign(call, { signature, inputName, outputNames, release: () => session.release() }))
}


/**
 * Loads a model and takes its signature from the file itself: its one input, and the output named
 * `output` (default: the first). For the CLI and quick use; code should declare a signature with
 * {@link load} so that a model that changes under it is caught.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { onnx } from 'tta-lens'
 * const model = await onnx.open('spec/fixtures/models/cls_gap_softmax.onnx')()
 * assert.ok(E.isRight(model) && model.right.signature.output?.join() === 'N,5')
 * @category constructors
 */
export const open = (source: string | Uint8Array, options: { readonly output?: string; readonly threads?: number } = {}): TE.TaskEither<LoadError, OnnxModel<Shape, Readonly<Record<string, Shape>>>> => async () => {
  const decoded = decodeWith(OpenCodec, options, 'onnx.open')
  if (E.isLeft(decoded)) return E.left(modelError(decoded.left.message))
  const threadsOk = checkThreads(decoded.right.threads)
  if (E.isLeft(threadsOk)) return threadsOk
  const read = await modelBytes(source)
  if (E.isLeft(read)) return E.left(read.left._tag === 'ModelError' ? modelError(read.left.message.replace(/^cannot read the model file/, 'cannot open'), read.left.cause) : read.left)
  let session: ort.InferenceSession
  try {
    session = await ort.InferenceSession.create(read.right)
  } catch (e) {
    return E.left(modelError(`cannot open ${typeof source === 'string' ? JSON.stringify(source) : 'the given bytes'} as an ONNX model: ${describeError(e)}`, e))
  }
  const [input, ...more] = session.inputMetadata
  const output = options.output === undefined ? session.outputMetadata[0] : session.outputMetadata.find((m) => m.name === options.output)
  await session.release()
  if (input === undefined || more.length > 0) return E.left(modelError(`the model has ${session.inputNames.length} inputs; tta-lens feeds exactly one image input`))
  if (output === undefined) return E.left(modelError(`the model has no output '${options.output ?? ''}'; its outputs are ${session.outputNames.join(', ')}`))
  const shapeOf = (m: ort.InferenceSession.ValueMetadata): readonly Dim[] => (m.isTensor ? m.shape : [])
  return load(source, {
    inputs: { [input.name]: shapeOf(input) },
    outputs: { [output.name]: shapeOf(output) },
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  })()
}
