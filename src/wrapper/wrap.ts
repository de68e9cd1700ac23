/**
 * The wrappers (segmentation, classification, keypoints, detection), as the `wrap` namespace.
 * @since 0.1.0
 */
export { segmentation, type SegmentationTTA } from './segmentation.js'
export { classification, type ClassificationTTA, type ClassificationOptions } from './classification.js'
export { keypoints, type KeypointsTTA, type KeypointsOptions, type KeypointMergeMode } from './keypoints.js'
export type { WrapOptions, WrapperOptions, CheckUndo, CheckSegmenter, CheckPointer, MeasureOptions, Outcome, WithUncertainty } from './common.js'
export type { EarlyExit } from './early-exit.js'
export type { RunnablePolicy } from './policy.js'
export type { ExecutionOptions } from './execute.js'
export {
  detection, detector, type DetectionTTA, type DetectionOptions, type DetectionResult, type DetectionModel, type DetectionsLike, type CheckDetector,
} from './detection.js'
export { decodeOptions } from './options.js'
