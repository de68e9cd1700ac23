/**
 * tta-lens: test-time augmentation with shape-indexed tensors and typed, invertible transforms.
 *
 * @packageDocumentation
 */
export * from './errors.js'
export type { Dim, Shape, ImageShape, Concrete, ShowShape, ShapeFits, CheckViewsFit, CheckRank, CheckImage } from './tensor/shape.js'
export { tensor, zeros, decode, bindShape, sizeOf, at, type Tensor, type TensorError } from './tensor/tensor.js'
export { limits, checkElements, checkCount, allocate } from './guard/limits.js'
export { firstNonFinite, checkFinite } from './guard/finite.js'
export { cancellation, type CancelOptions, type Cancellation } from './guard/cancel.js'
export { strictObject, decodeWith, describeFailure } from './guard/decode.js'

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

export { runnableViews, deaugmentBoxesData, type View, type BaseView, type MaskView, type KeypointsView, type BoxesView, type BoxUndoOptions } from './backend/reference/views.js'

export * as wrap from './wrapper/wrap.js'
export type { Model, ModelOutput } from './wrapper/model.js'

export * as laws from './laws/index.js'

export { buildPlan, type Plan, type PlanStep, type Chunk, type Task, type ModelSignature, type PlanOptions, type MemoryEstimate, type BoxPlan } from './plan/plan.js'
export { run as runPlan, runDetections, type Effects, type RawTensor, type RaggedOutput, type ModelValue, type ViewDetections, type ImageDetections } from './plan/run.js'
export { dryRun, taskFits, type DryRunReport } from './plan/dry-run.js'
export { explain } from './plan/explain.js'
export { parseBudget, showBytes, type Budget } from './plan/budget.js'
export { referenceBackend } from './backend/reference/backend.js'
export { jsBackend, type JsBackendOptions } from './backend/js.js'
export { gpujsBackend, type GpuJsMode } from './backend/gpujs.js'
export type { Backend, BackendName, PlaneBlock } from './backend/backend.js'
export { backendNamed, type ExecutionOptions } from './wrapper/execute.js'
export * as onnx from './backend/onnx.js'
export { productFromConfig, parsePolicy, TransformConfig } from './config/transforms.js'
export { mcnemar, showP } from './eval/stats.js'
export { decodeIdx, readIdx, type IdxArray } from './io/idx.js'
export * as textdet from './textdet/index.js'
export * as boxes from './boxes/index.js'
export * as files from './io/files.js'
export { evaluateClassifier, argmaxRows, type LabelledSet, type PolicyResult } from './eval/classify.js'
