/**
 * Text detection with PP-OCRv4's detector: preprocessing, DB-style post-processing, scoring, and
 * the pipeline from pixels to boxes. The segmentation side of the product demo: the detector's
 * probability map is what `wrap.segmentation` merges. Runs anywhere; loading the detector and the
 * evaluation set from files is in `tta-lens/node` (its `textdet` holds all of this too).
 *
 * @since 0.3.0
 */
export { preprocess, roundUp, PPOCR_MEAN, PPOCR_STD, type RgbImage, type Prepared } from './preprocess.js'
export { boxesFromProbability, binarize, boxMask, toDetections, dbDetections, type Box, type BoxOptions, type Detection } from './postprocess.js'
export { scoreBoxes, matchBoxes, boxIoU, fromCounts, addScores, pixelIoU, type BoxScore, type BoxMatch } from './score.js'
export { detect, DETECTOR_OUTPUT, DETECTOR_SPEC, type Detector, type DetectionResult } from './detector.js'
export { dbHead, checkDbHeadOptions, isProbabilityMap, DbHeadOptionsCodec, type DbHeadOptions } from './head.js'
