/**
 * tta-lens: test-time augmentation with shape-indexed tensors and typed, invertible transforms.
 *
 * What belongs here: the core, which runs anywhere JavaScript does — tensors, transforms, algebra,
 * merges, the plan and its interpreters, kernels and the js/reference/gpujs backends, wrappers,
 * the law kit, boxes, and anything else that needs neither Node nor a browser. Nothing imported
 * from here, directly or not, may import a Node built-in (`node:*`, `fs`, …) or a package that
 * runs only in Node (onnxruntime-node, sharp): spec/package/entry-points.test.ts fails if one does.
 * Those go behind `tta-lens/node` (src/node.ts); browser-only adapters behind `tta-lens/web`.
 *
 * @packageDocumentation
 * @module tta-lens
 */
export * from './errors.js'
export type { Dim, Shape, ImageShape, Concrete, ShowShape, ShapeFits, CheckViewsFit, CheckRank, CheckImage } from './tensor/shape.js'
export { tensor, zeros, decode, checkTensor, bindShape, sizeOf, at, type Tensor, type TensorError } from './tensor/tensor.js'
export { limits, checkElements, checkCount, allocate } from './guard/limits.js'
export { firstNonFinite, checkFinite } from './guard/finite.js'
export { cancellation, type CancelOptions, type Cancellation } from './guard/cancel.js'
export { strictObject, decodeWith, describeFailure, excessKey } from './guard/decode.js'

export * as transforms from './transform/builtins.js'
export { custom, type CustomSpec, type Custom } from './transform/custom.js'
export type { Factor, FactorOption, Kind, Target, MapOf, UndoOf, ParamOf } from './transform/factor.js'
export type { Step, Stage, Interpolation, CropAnchor, TileAnchor, CustomGeometry } from './transform/step.js'
export { resolveAugment, resolveUndoMask, undoPoint, chainSizes, describeStage, cropOrigin } from './transform/step.js'
export { boxMaps, cutSides, clipBox, d4MovePixel, type BoxMaps, type Corners } from './transform/box-map.js'
export type { D4Element, AffineIndexMap, Quarter } from './transform/d4.js'
export { d4IndexMap, d4MovePoint } from './transform/d4.js'
export type { ShapeMap, ApplyMap, ApplyMaps, Scaled, Unscaled, RightAngle, CheckAngles, CheckNonEmpty, IsInteger } from './transform/shape-map.js'

export * as dihedral4 from './algebra/d4.js'
export { product, identity, sequence, size, simplify, views, dihedral, checkProduct, type Product, type ViewSpec, type AnyFactor, type ViewShapes, type CommonUndo } from './algebra/product.js'
export * as aliases from './algebra/aliases.js'

export { merge, accumulator, mergeModes, parseMergeMode, voteLayout, type MergeMode, type MergeFailure, type Accumulator, type CheckSameShapes } from './merge/merge.js'
export { checkPreparation, prepareView, probabilitiesAlongClasses, type ViewPreparation, type ClassLayout } from './merge/prepare.js'
export { spreadAccumulator, type SpreadAccumulator, type SpreadMeasures, type ScoreKind } from './merge/spread.js'
export { calibrate, scoresOf, type Calibration } from './merge/calibrate.js'

export { runnableViews, deaugmentBoxesData, type View, type BaseView, type MaskView, type KeypointsView, type BoxesView, type BoxUndoOptions } from './backend/reference/views.js'

export * as wrap from './wrapper/wrap.js'
export type { Model, ModelOutput } from './wrapper/model.js'

export * as laws from './laws/index.js'

export { buildPlan, type Plan, type PlanStep, type Chunk, type Task, type ModelSignature, type PlanOptions, type MemoryEstimate, type BoxPlan } from './plan/plan.js'
export {
  run as runPlan, runDetections,
  type Effects, type RawTensor, type RunResult, type RaggedOutput, type ModelValue, type ViewDetections, type ImageDetections,
} from './plan/run.js'
export { dryRun, taskFits, type DryRunReport } from './plan/dry-run.js'
export { explain } from './plan/explain.js'
export { parseBudget, showBytes, type Budget } from './plan/budget.js'
export { referenceBackend } from './backend/reference/backend.js'
export { jsBackend, type JsBackendOptions } from './backend/js.js'
export { gpujsBackend, type GpuJsMode } from './backend/gpujs.js'
export type { Backend, BackendName, BatchBuffer, BatchRequest, PlaneBlock } from './backend/backend.js'
export { backendNamed, type ExecutionOptions } from './wrapper/execute.js'
export type { OnnxSpec, OnnxModel, OutputOf } from './backend/onnx-core.js'
export { productFromConfig, parsePolicy, TransformConfig } from './config/transforms.js'
export { mcnemar, showP } from './eval/stats.js'
export { scoreDetections, scoreLabelled, setScore, compareDetections, type DetectionSetScore, type DetectionComparison, type CompareOptions, type LabelledBoxes } from './eval/detection.js'
export { decodeDetectionTruth, checkTruthFits, type TruthEntry } from './eval/detection-truth.js'
export * as textdet from './textdet/index.js'
export * as boxes from './boxes/index.js'
export { evaluateClassifier, argmaxRows, type LabelledSet, type PolicyResult } from './eval/classify.js'
export { decodeIndexSplit, decodeNameSplit, subset, type Split } from './eval/split.js'
export { ViewOpCodec, viewName, viewKey, productOfViews, parsePool, standardPool, type ViewOp, type ViewOps } from './policy/views.js'
export { cachePredictions, cacheBytes, type CachedPredictions, type CachedView } from './policy/cached.js'
export { fitTemperature, type Scored } from './policy/score.js'
export { fitWeights, weightedScores, type FitOptions, type FittedMerge } from './policy/fit.js'
export { searchMerges, describeMerge, runnableMerge, type PolicyMerge, type PolicyMergeMode, type MergeChoice, type UniformMerge } from './policy/merges.js'
export { searchPolicy, type SearchBudget, type SearchOptions, type SearchStep, type SearchResult } from './policy/search.js'
export { collectPredictions, memoryStore, setFingerprint, type PredictionStore, type CollectOptions } from './policy/collect.js'
export {
  POLICY_VERSION, PolicyFileCodec, decodePolicy, parsePolicyText, encodePolicy, namedViews, policyFromSearch,
  type Policy, type PolicyFile, type PolicySource,
} from './policy/policy.js'
export { evaluatePolicy, type PolicyEvaluation, type AnswerScore, type EarlyExitScore, type FlagScore, type EvaluateOptions } from './policy/evaluate.js'
export { auroc } from './eval/auroc.js'
export {
  DetectionPolicyCodec, decodeDetectionPolicy, applyDetectionPolicy, searchDetectionPolicy, detectionPolicyFromSearch, defaultFusions, describeFusion,
  type DetectionPolicy, type DetectionScore, type DetectionStep, type DetectionSearchResult, type MapMerge, type MapMerges,
} from './policy/detection.js'
