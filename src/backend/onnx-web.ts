/**
 * ONNX models in the browser, through onnxruntime-web: the edge around the runtime-free core in
 * `onnx-core.ts`, with the same declared, decoded and checked signature as the Node edge. A model
 * comes from a URL (fetched) or bytes; it runs on the first execution provider of `providers` that
 * opens a session — WebGPU where the browser has it, WebAssembly everywhere — and says which one
 * in `runtime`, with the reason each earlier provider was skipped.
 *
 * onnxruntime-web is an optional peer dependency of tta-lens: install it beside tta-lens to use
 * `tta-lens/web`. It also runs in Node (WebAssembly only), which is how the test suite checks this
 * edge against onnxruntime-node.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type * as TE from 'fp-ts/lib/TaskEither.js'
import * as ort from 'onnxruntime-web'
import { modelError } from '../errors.js'
import type { Shape } from '../tensor/shape.js'
import { loadWith, openWith, type LoadError, type OnnxModel, type OnnxRuntime, type OnnxSession, type OnnxSpec, type OnnxValueInfo } from './onnx-core.js'

export type { LoadError, OnnxModel, OnnxSpec, OutputOf } from './onnx-core.js'

/** onnxruntime-web's execution providers that tta-lens drives. @category model */
export type WebProvider = 'webgpu' | 'wasm'

/** Where a browser model runs. @category model */
export interface WebOptions {
  /** Execution providers to try, in order (default `['webgpu', 'wasm']`: WebGPU where it opens, else WebAssembly). */
  readonly providers?: readonly WebProvider[]
}

const providerNames: readonly WebProvider[] = ['webgpu', 'wasm']

const describeError = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''

const info = (m: ort.InferenceSession.ValueMetadata): OnnxValueInfo =>
  (m.isTensor ? { name: m.name, type: m.type, shape: [...m.shape] } : { name: m.name, shape: [] })

/** An onnxruntime-web session seen through the core's {@link OnnxSession}. */
const sessionOf = (session: ort.InferenceSession, runtime: string): OnnxSession => ({
  runtime,
  inputs: session.inputMetadata.map(info),
  outputs: session.outputMetadata.map(info),
  run: async (input, outputs) => session.run({ [input.name]: new ort.Tensor('float32', input.data, input.dims) }, outputs),
  release: () => session.release(),
})

/** Fetches a model file; a failed request is a ModelError with its status. */
const fetchBytes = async (url: string): Promise<E.Either<LoadError, Uint8Array>> => {
  const response = await fetch(url)
  if (!response.ok) return E.left(modelError(`cannot read the model file ${JSON.stringify(url)}: HTTP ${response.status} ${response.statusText}`.trim()))
  return E.right(new Uint8Array(await response.arrayBuffer()))
}

const runtime: OnnxRuntime<WebOptions> = {
  name: 'onnxruntime-web',
  read: fetchBytes,
  create: async (bytes, threads, options) => {
    const wanted = options.providers ?? providerNames
    const unknown = wanted.filter((p) => !providerNames.includes(p))
    if (wanted.length === 0 || unknown.length > 0) throw new Error(`providers must be some of ${providerNames.join(', ')}, got ${JSON.stringify(wanted)}`)
    // onnxruntime-web reads its thread count once, when its WebAssembly starts.
    if (threads !== undefined) ort.env.wasm.numThreads = threads
    const skipped: string[] = []
    for (const provider of wanted) {
      try {
        const navigator: unknown = Reflect.get(globalThis, 'navigator')
        if (provider === 'webgpu' && (typeof navigator !== 'object' || navigator === null || Reflect.get(navigator, 'gpu') === undefined)) {
          skipped.push('webgpu: this browser has no navigator.gpu')
          continue
        }
        const session = await ort.InferenceSession.create(bytes, { executionProviders: [provider] })
        return sessionOf(session, `onnxruntime-web ${provider}${skipped.length > 0 ? ` (${skipped.join('; ')})` : ''}`)
      } catch (e) {
        skipped.push(`${provider}: ${describeError(e)}`)
      }
    }
    throw new Error(skipped.join('; '))
  },
}

/**
 * Loads an ONNX model from a URL or bytes and checks the declared signature against the file, as
 * `onnx.load` of `tta-lens/node` does; `options.providers` picks the execution providers.
 * @example
 * import { readFileSync } from 'node:fs'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { onnx } from 'tta-lens/web'
 * const bytes = readFileSync('spec/fixtures/models/seg_conv1x1_sigmoid.onnx')
 * const model = await onnx.load(bytes, {
 *   inputs: { image: ['N', 3, 'H', 'W'] },
 *   outputs: { mask: ['N', 2, 'H', 'W'] },
 * }, { providers: ['wasm'] })()
 * assert.ok(E.isRight(model) && model.right.runtime === 'onnxruntime-web wasm')
 * const wrong = await onnx.load(bytes, { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { mask: ['N', 3, 'H', 'W'] } }, { providers: ['wasm'] })()
 * assert.ok(E.isLeft(wrong) && /dimension 1 is 2, not 3/.test(wrong.left.message))
 * if (E.isRight(model)) await model.right.release()
 * @category constructors
 */
export const load = <const In extends Shape, const Outs extends Readonly<Record<string, Shape>>>(
  source: string | Uint8Array,
  spec: OnnxSpec<In, Outs>,
  options: WebOptions = {},
): TE.TaskEither<LoadError, OnnxModel<In, Outs>> => loadWith(runtime)(source, spec, options)

/**
 * Loads a model and takes its signature from the file itself, as `onnx.open` of `tta-lens/node`.
 * @example
 * import { readFileSync } from 'node:fs'
 * import * as E from 'fp-ts/lib/Either.js'
 * import { onnx } from 'tta-lens/web'
 * const model = await onnx.open(readFileSync('spec/fixtures/models/cls_gap_softmax.onnx'), {}, { providers: ['wasm'] })()
 * assert.ok(E.isRight(model) && model.right.signature.output?.join() === 'N,5')
 * if (E.isRight(model)) await model.right.release()
 * @category constructors
 */
export const open = (
  source: string | Uint8Array,
  options: { readonly output?: string; readonly threads?: number } = {},
  web: WebOptions = {},
): TE.TaskEither<LoadError, OnnxModel<Shape, Readonly<Record<string, Shape>>>> => openWith(runtime)(source, options, web)
