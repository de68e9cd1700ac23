/**
 * ONNX models in Node, through onnxruntime-node: the edge around the runtime-free core in
 * `onnx-core.ts` (which declares, decodes and checks the signature). `load` reads a model from a
 * path or bytes and checks the declared signature against the file; `open` takes the signature
 * from the file.
 *
 * @since 0.2.0
 */
import { readFile, stat } from 'node:fs/promises'
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as ort from 'onnxruntime-node'
import { limitError, modelError } from '../errors.js'
import { limits } from '../guard/limits.js'
import type { Shape } from '../tensor/shape.js'
import { loadWith, openWith, type LoadError, type OnnxModel, type OnnxRuntime, type OnnxSession, type OnnxSpec, type OnnxValueInfo } from './onnx-core.js'

export type { LoadError, OnnxModel, OnnxSpec, OutputOf } from './onnx-core.js'

const info = (m: ort.InferenceSession.ValueMetadata): OnnxValueInfo =>
  (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, shape: [] })

/** An onnxruntime-node session seen through the core's {@link OnnxSession}. */
const sessionOf = (session: ort.InferenceSession): OnnxSession => ({
  runtime: 'onnxruntime-node cpu',
  inputs: session.inputMetadata.map(info),
  outputs: session.outputMetadata.map(info),
  run: async (input, outputs) => session.run({ [input.name]: new ort.Tensor('float32', input.data, input.dims) }, outputs),
  release: () => session.release(),
})

const runtime: OnnxRuntime<undefined> = {
  name: 'onnxruntime',
  // A path is checked to be a file within the size limit before a byte of it is read.
  read: async (path) => {
    const info = await stat(path)
    if (!info.isFile()) return E.left(modelError(`cannot read the model file ${JSON.stringify(path)}: it is not a file`))
    if (info.size > limits.maxFileBytes) {
      return E.left(limitError('maxFileBytes', info.size, limits.maxFileBytes, `the model file ${JSON.stringify(path)} has ${info.size} bytes; the limit is ${limits.maxFileBytes}`))
    }
    return E.right(await readFile(path))
  },
  create: async (bytes, threads) =>
    sessionOf(await ort.InferenceSession.create(bytes, threads === undefined ? {} : { intraOpNumThreads: threads, interOpNumThreads: 1 })),
}

/**
 * Loads an ONNX model and checks the declared signature against the file.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { onnx } from 'tta-lens/node'
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
): TE.TaskEither<LoadError, OnnxModel<In, Outs>> => loadWith(runtime)(source, spec, undefined)

/**
 * Loads a model and takes its signature from the file itself: its one input, and the output named
 * `output` (default: the first). For the CLI and quick use; code should declare a signature with
 * {@link load} so that a model that changes under it is caught.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { onnx } from 'tta-lens/node'
 * const model = await onnx.open('spec/fixtures/models/cls_gap_softmax.onnx')()
 * assert.ok(E.isRight(model) && model.right.signature.output?.join() === 'N,5')
 * @category constructors
 */
export const open = (source: string | Uint8Array, options: { readonly output?: string; readonly threads?: number } = {}): TE.TaskEither<LoadError, OnnxModel<Shape, Readonly<Record<string, Shape>>>> =>
  openWith(runtime)(source, options, undefined)
