/**
 * Boxes: detections as a TTA target, and their fusion across views.
 * @since 0.3.0
 */
export { empty, checkDetections, type Box, type Detections, type Coordinates } from './detections.js'
export {
  fuse, normalizedRange, fusionMethods, confidenceRules, fusionDefaults, parseFusionOptions, FusionOptionsCodec,
  type ConfidenceRule, type FusionMethod, type FusionOptions,
} from './fusion.js'
export { fuseInFrame, keepScoring, checkMinScore, type Frame, type FrameFusion } from './frame.js'
