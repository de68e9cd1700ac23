/**
 * Detection TTA: each view's boxes are mapped back into the input's frame (corners through the
 * view's steps, re-ordered, clipped to what the view shows) and the views' boxes are fused per
 * image (weighted boxes fusion by default; NMS, soft-NMS and NMW on request).
 *
 * A detection model is an async function from a batch tensor to one `{ boxes, scores, labels }`
 * per image of the batch, in pixels of the image it was given or normalised to [0, 1] of it. A
 * model that returns a tensor (a probability map, raw head outputs) becomes one with
 * {@link detector}, which splits the batch and runs your post-processing on each image.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import { modelError, paramError, TtaException, type TtaError } from '../errors.js'
import type { AnyFactor, Product, ViewShapes, ViewSpec } from '../algebra/product.js'
import type { Coordinates, Detections } from '../boxes/detections.js'
import type { FusionOptions } from '../boxes/fusion-options.js'
import { mergeModes } from '../merge/merge.js'
import type { ModelSignature, Plan } from '../plan/plan.js'
import { runDetections, type ModelValue, type ViewDetections } from '../plan/run.js'
import type { CheckImage, Shape, ShowShape } from '../tensor/shape.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'
import type { CheckUndo } from './common.js'
import { backendFor, cancelOf, planFor, signatureOf, wrapperParts, type ExecutionOptions, type TaskInput } from './execute.js'
import { detectionOptionCodecs } from './options.js'
import { callModel, decodeOutput, type Callable, type ModelExtra, type ModelInput, type ModelOutput, type OutputKey } from './model.js'

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * What a detection model may resolve to for one image: `{ boxes, scores, labels }` as arrays (or
 * typed arrays). The wrapper checks the values with `boxes.checkDetections` after each call.
 * @example
 * import type { wrap } from 'tta-lens'
 * const found: wrap.DetectionsLike = { boxes: [[1, 2, 5, 6]], scores: Float32Array.of(0.9), labels: [0] }
 * assert.strictEqual(found.boxes.length, 1)
 * @category model
 */
export interface DetectionsLike {
  readonly boxes: ArrayLike<ArrayLike<number>>
  readonly scores: ArrayLike<number>
  readonly labels: ArrayLike<number>
}

/**
 * The type of a detection model: a batch `[N, C, H, W]` in, one detections record per image out.
 * @example
 * import { boxes, type wrap } from 'tta-lens'
 * const nothing: wrap.DetectionModel<readonly ['N', 3, 'H', 'W']> = async (x) => Array.from({ length: x.shape[0] }, () => boxes.empty)
 * assert.strictEqual(typeof nothing, 'function')
 * @category model
 */
export type DetectionModel<In extends Shape = Shape, X extends readonly unknown[] = readonly unknown[]> =
  (batch: Tensor<In>, ...extra: X) => Promise<readonly DetectionsLike[]>

type ResolvedValue<M> = M extends (batch: never, ...extra: never) => Promise<infer O> ? O : never
type Described<O> = O extends Tensor<infer S> ? `a tensor ${ShowShape<S>}: turn it into boxes with wrap.detector(model, decode)`
  : O extends DetectionsLike ? 'one { boxes, scores, labels } for the whole batch, not one per image'
    : O extends Readonly<Record<string, Tensor<Shape>>> ? 'a record of tensors: turn it into boxes with wrap.detector(model, decode, { outputKey })'
      : 'something else'

/**
 * `unknown` when a model's declared result is a list of detections (one per image), else an error
 * that says what it returns instead: why `wrap.detection(segmenter, …)` does not compile.
 * @example
 * import type { Tensor, wrap } from 'tta-lens'
 * type Boxer = (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<readonly wrap.DetectionsLike[]>
 * type Masker = (x: Tensor<readonly ['N', 3, 'H', 'W']>) => Promise<Tensor<readonly ['N', 2, 'H', 'W']>>
 * const ok: wrap.CheckDetector<Boxer> = 'no error'
 * const bad: wrap.CheckDetector<Masker> = {
 *   error: 'a detection model must resolve to one { boxes, scores, labels } per image, but this one resolves to a tensor [N,2,H,W]: turn it into boxes with wrap.detector(model, decode)',
 * }
 * assert.strictEqual(ok, 'no error')
 * assert.match(bad.error, /\[N,2,H,W\]/)
 * @category type-level
 */
export type CheckDetector<M> = [ResolvedValue<M>] extends [readonly DetectionsLike[]]
  ? unknown
  : { readonly error: `a detection model must resolve to one { boxes, scores, labels } per image, but this one resolves to ${Described<ResolvedValue<M>>}` }

/**
 * What {@link detection} takes besides the model and the transforms.
 * @example
 * import type { wrap } from 'tta-lens'
 * const options: wrap.DetectionOptions<true> = { coordinates: 'normalized', fusion: { method: 'wbf', iouThreshold: 0.6 }, keepViews: true }
 * assert.strictEqual(options.fusion?.method, 'wbf')
 * @category model
 */
export interface DetectionOptions<Keep extends boolean = boolean> extends ExecutionOptions {
  /** The model's coordinates: pixels of the image it was given (default) or normalised to [0, 1]. The result is in the same system, of the input. */
  readonly coordinates?: Coordinates
  /** How each image's boxes from all views are merged; default weighted boxes fusion (`{ method: 'wbf' }`). Weights are per view, in the order of `views(product)`. */
  readonly fusion?: FusionOptions
  /** Boxes touching a view's border inside the image (tiles, crops, shifts): `'keep'` (default) or `'drop'` (for tiles overlapping by more than an object). */
  readonly cutBoxes?: 'keep' | 'drop'
  /**
   * Fused boxes scoring below this are dropped: the detector's operating point after fusion, in
   * [0, 1]; default 0 (all kept). With weighted boxes fusion's `avg` rule a box found by k of V
   * views scores about its views' mean score × k / V, so this is also a vote (see `boxes.fuseInFrame`).
   */
  readonly minScore?: number
  /** Also return each view's detections, mapped back into the input's frame (to draw or inspect them). */
  readonly keepViews?: Keep
  /** Called after each view with (views done, views in all). */
  readonly onView?: (done: number, total: number) => void
}

/**
 * One image's result: the fused detections, with every view's mapped-back detections when
 * `keepViews` is true.
 * @example
 * import type { wrap } from 'tta-lens'
 * const plain: wrap.DetectionResult<false> = { boxes: [], scores: [], labels: [] }
 * const withViews: wrap.DetectionResult<true> = { ...plain, views: [] }
 * assert.deepStrictEqual(withViews.views, [])
 * @category model
 */
export type DetectionResult<Keep extends boolean> = Keep extends true ? Detections & { readonly views: readonly ViewDetections[] } : Detections

/** What {@link detection} returns: the views, the plan for an image, and `run`. @category model */
export interface DetectionTTA<M, Fs extends readonly AnyFactor[], Keep extends boolean> {
  readonly views: readonly ViewSpec[]
  /** The plan `run` would follow for an image (see `explain`). */
  readonly plan: (image: Tensor<Shape>) => E.Either<TtaError, Plan>
  /** Runs every view through the model and fuses the boxes: one result per image of the batch, in the input's frame. */
  readonly run: <const S extends Shape>(
    image: Tensor<S> & CheckImage<S, ViewShapes<Fs, S>, ModelInput<M>>,
    ...extra: ModelExtra<M>
  ) => TE.TaskEither<TtaError, readonly DetectionResult<Keep>[]>
}

// -------------------------------------------------------------------------------------------------
// the wrapper
// -------------------------------------------------------------------------------------------------

/** A detection model's resolved value as the interpreter takes it, or why it is not one. */
const raggedOf = (value: unknown, where: string): E.Either<TtaError, ModelValue> =>
  Array.isArray(value)
    ? E.right({ detections: value })
    : E.left(modelError(`a detection model must resolve to a list with one { boxes, scores, labels } per image; for ${where} it gave ${value === null ? 'null' : typeof value === 'object' && 'shape' in value ? 'a tensor' : typeof value}`))

/** A rejection that carries one of the library's errors (a {@link detector}'s post-processing) keeps it. */
const unwrapped = (e: TtaError): TtaError => (e._tag === 'ModelError' && e.cause instanceof TtaException ? e.cause.error : e)

const runDetectionTask = async (
  input: TaskInput,
  coordinates: unknown,
  keepViews: boolean,
  image: Tensor<Shape>,
  extra: readonly unknown[],
): Promise<E.Either<TtaError, readonly (Detections | (Detections & { readonly views: readonly ViewDetections[] }))[]>> => {
  if (coordinates !== 'pixels' && coordinates !== 'normalized') return E.left(paramError(`coordinates must be 'pixels' or 'normalized', got ${String(coordinates)}`))
  const planned = planFor(input, image)
  if (E.isLeft(planned)) return planned
  const backend = await backendFor(input)
  if (E.isLeft(backend)) return backend
  // `runDetections` turns anything user code throws inside the pipeline into a Left: it never rejects.
  const result = await runDetections(planned.right.plan, planned.right.image, {
    backend: backend.right,
    boxCoordinates: coordinates,
    cancel: cancelOf(input),
    ...(input.onView === undefined ? {} : { onView: input.onView }),
    callModel: async (batch) => {
      const where = `chunk [${batch.shape.join(',')}]`
      const called = await callModel(input.model, assumeShape<Shape>(batch.shape, batch.data), extra, where)
      return E.isLeft(called) ? E.left(unwrapped(called.left)) : raggedOf(called.right, where)
    },
  })
  return E.Functor.map(result, (images) => images.map((r) => (keepViews ? { ...r.fused, views: r.views } : r.fused)))
}

/**
 * Wraps a detection model: every view of the product is run (views of one size share a batched
 * model call), each view's boxes are mapped back into the input's frame and each image's boxes are
 * fused (weighted boxes fusion by default). Every factor must be able to undo boxes — all built-in
 * transforms can (crops and tiles shift their boxes back); a custom transform needs a point map —
 * and the model's declared result must be detections, or it does not compile.
 *
 * The model's detections are checked after each call (`boxes.checkDetections`: finite corners,
 * `x1 ≤ x2`, `y1 ≤ y2`, scores in [0, 1], integer labels, one per box) and a wrong count, NaN or
 * reversed box is a `Left` naming the view and image. No boxes is a valid answer, for a view or
 * for all of them.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, wrap, type Tensor } from 'tta-lens'
 * // A detector that boxes the bright pixels of each image (in pixels of what it is shown).
 * const bright = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
 *   const [n, , h, w] = x.shape
 *   return Array.from({ length: n }, (_, b) => {
 *     let box = [w, h, 0, 0]
 *     for (let k = 0; k < h * w; k++) {
 *       if ((x.data[b * h * w + k] ?? 0) <= 0.5) continue
 *       const i = Math.floor(k / w), j = k % w
 *       box = [Math.min(box[0]!, j), Math.min(box[1]!, i), Math.max(box[2]!, j + 1), Math.max(box[3]!, i + 1)]
 *     }
 *     return { boxes: [box], scores: [0.9], labels: [0] }
 *   })
 * }
 * // a 4x6 image with a bright 2x3 block at x 1..4, y 0..2
 * const image = orThrow(tensor([1, 1, 4, 6], Array.from({ length: 24 }, (_, k) => (k % 6 >= 1 && k % 6 < 4 && k < 12 ? 1 : 0))))
 * const found = await wrap.detection(bright, aliases.d4(), { keepViews: true }).run(image)()
 * assert.ok(E.isRight(found))
 * const [result] = found.right
 * // every one of the 8 views (4 of them turned to 6x4) finds the block where it is
 * assert.ok(result!.views.every((v) => v.detections.boxes[0]?.join() === '1,0,4,2'))
 * assert.deepStrictEqual(result!.boxes.map((b) => b.map((v) => Math.round(v * 1e9) / 1e9)), [[1, 0, 4, 2]])
 * @category wrappers
 */
export const detection = <
  M extends (batch: never, ...extra: never) => Promise<unknown>,
  const Fs extends readonly AnyFactor[],
  const Keep extends boolean = false,
>(
  model: M & CheckDetector<M>,
  transforms: Product<Fs> & CheckUndo<Fs, 'boxes'>,
  options: DetectionOptions<Keep> = {},
): DetectionTTA<M, Fs, Keep> => {
  const { input, views, plan } = wrapperParts('detection', model, transforms, options, mergeModes, {
    boxes: {
      ...(options?.fusion === undefined ? {} : { fusion: options.fusion }),
      ...(options?.cutBoxes === undefined ? {} : { cutBoxes: options.cutBoxes }),
      ...(options?.minScore === undefined ? {} : { minScore: options.minScore }),
    },
  }, detectionOptionCodecs)
  const keepViews = options?.keepViews === true
  return {
    views,
    plan,
    run: <const S extends Shape>(image: Tensor<S>, ...extra: ModelExtra<M>) => async () => {
      const result = await runDetectionTask(input, input.setupError === undefined ? options?.coordinates ?? 'pixels' : 'pixels', keepViews, image, extra)
      // The result's type follows `keepViews`; this guard (which every image passes: each carries
      // `views` exactly when `keepViews` is set) says so to the compiler without a cast.
      return E.Functor.map(result, (images) => images.filter((r): r is DetectionResult<Keep> => keepViews === 'views' in r))
    },
  }
}

// -------------------------------------------------------------------------------------------------
// models from tensors
// -------------------------------------------------------------------------------------------------

/**
 * Turns a model that returns a tensor (a probability map, raw head outputs) into a detection
 * model: the batch's output is split along its first axis and `decode` turns each image's part
 * (`[1, …]`) into detections — your post-processing, such as `textdet.dbDetections()` for a DB text
 * detector's map. An ONNX model's input signature and batch limit carry over, so the detection
 * wrapper still dry-runs against them. A `Left` from `decode` (or an output that is not a tensor)
 * rejects the call with a `TtaException` holding the error; the wrapper reports it as that error.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, wrap, type Tensor } from 'tta-lens'
 * // A "model" whose output is a 1-channel map: the image itself.
 * const mapper = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => x
 * // Post-processing: one box around the pixels above 0.5 (or none).
 * const decode = (map: Tensor<readonly number[]>) => {
 *   const w = map.shape[3] ?? 0
 *   const lit = Array.from(map.data.entries()).filter(([, v]) => v > 0.5).map(([k]) => [k % w, Math.floor(k / w)] as const)
 *   if (lit.length === 0) return { boxes: [], scores: [], labels: [] }
 *   const xs = lit.map(([x]) => x), ys = lit.map(([, y]) => y)
 *   return { boxes: [[Math.min(...xs), Math.min(...ys), Math.max(...xs) + 1, Math.max(...ys) + 1]], scores: [1], labels: [0] }
 * }
 * const model = wrap.detector(mapper, decode)
 * const image = orThrow(tensor([1, 1, 2, 3], [0, 0, 1, 0, 0, 0]))
 * const found = await wrap.detection(model, aliases.hflip(), { fusion: { method: 'nms' } }).run(image)()
 * assert.ok(E.isRight(found) && found.right[0]?.boxes[0]?.join() === '2,0,3,1')
 * @category wrappers
 */
export const detector = <
  M extends (batch: never, ...extra: never) => Promise<ModelOutput>,
  Key extends OutputKey<M> = never,
>(
  model: M,
  decode: (output: Tensor<readonly number[]>, image: number) => E.Either<TtaError, DetectionsLike> | DetectionsLike,
  options: { readonly outputKey?: Key } = {},
): DetectionModel<ModelInput<M>, ModelExtra<M>> & { readonly signature?: ModelSignature } => {
  const inner: Callable = { call: model }
  const signature = signatureOf(model)
  const run = async (batch: Tensor<ModelInput<M>>, ...extra: ModelExtra<M>): Promise<readonly DetectionsLike[]> => {
    const out = decodeOutput(await inner.call(batch, ...extra), options.outputKey, `batch [${batch.shape.join(',')}]`)
    if (E.isLeft(out)) throw new TtaException(out.left)
    const [n = 0, ...rest] = out.right.shape
    const per = n === 0 ? 0 : out.right.data.length / n
    const found: DetectionsLike[] = []
    for (let b = 0; b < n; b++) {
      const part = assumeShape<readonly number[]>([1, ...rest], out.right.data.subarray(b * per, (b + 1) * per))
      const decoded = decode(part, b)
      if (isEither(decoded)) {
        if (E.isLeft(decoded)) throw new TtaException(decoded.left)
        found.push(decoded.right)
      } else {
        found.push(decoded)
      }
    }
    return found
  }
  const kept: ModelSignature | undefined = signature === undefined ? undefined : {
    ...(signature.input === undefined ? {} : { input: signature.input }),
    ...(signature.maxBatch === undefined ? {} : { maxBatch: signature.maxBatch }),
  }
  return kept === undefined ? run : Object.assign(run, { signature: kept })
}

const isEither = (value: E.Either<TtaError, DetectionsLike> | DetectionsLike): value is E.Either<TtaError, DetectionsLike> =>
  '_tag' in value && (value._tag === 'Left' || value._tag === 'Right')
