/**
 * Text detection with PP-OCRv4's detector: preprocessing, DB-style post-processing, scoring, and the
 * evaluation set in `assets/textdet/`. The segmentation side of the product demo: the detector's
 * probability map is what `wrap.segmentation` merges.
 *
 * @since 0.3.0
 */
export { preprocess, roundUp, PPOCR_MEAN, PPOCR_STD, type RgbImage, type Prepared } from './preprocess.js'
export { boxesFromProbability, binarize, boxMask, toDetections, dbDetections, type Box, type BoxOptions, type Detection } from './postprocess.js'
export { scoreBoxes, boxIoU, fromCounts, addScores, pixelIoU, type BoxScore } from './score.js'
export { loadDetector, detectorPath, detect, DETECTOR_OUTPUT, type Detector, type DetectorOptions, type DetectionResult } from './detector.js'
export { readTruth, readImage, EVAL_SET_DIR, type DataError, type TruthImage, type TruthLine } from './evalset.js'
