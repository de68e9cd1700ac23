/**
 * The three wrappers, as the `wrap` namespace.
 * @since 0.1.0
 */
export { segmentation, type SegmentationTTA } from './segmentation.js'
export { classification, type ClassificationTTA, type ClassificationOptions } from './classification.js'
export { keypoints, type KeypointsTTA, type KeypointsOptions, type KeypointMergeMode } from './keypoints.js'
export type { WrapOptions, WrapperOptions, CheckUndo, MeasureOptions, Outcome, WithUncertainty } from './common.js'
export type { EarlyExit } from './early-exit.js'
export type { RunnablePolicy } from './policy.js'
export type { ExecutionOptions } from './execute.js'
export { decodeOptions } from './options.js'
