/**
 * The `run` interpreter: performs a plan's steps on real data. The effects — kernels (a
 * `Backend`) and model calls — are values passed in, so tests swap them and the same plan runs on
 * every backend. Each chunk's views are augmented straight into one reused batch buffer, the model
 * is called once per chunk, and every view's prediction is mapped back and reduced into the
 * running merge in one fused pass: memory is bounded by the chunk, not the number of views.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { mergeError, modelError, nonFiniteError, paramError, shapeError, type TtaError } from '../errors.js'
import { cancellation, type CancelOptions } from '../guard/cancel.js'
import { checkFinite } from '../guard/finite.js'
import { allocate, asAllocationError, isAllocationFailure, limits } from '../guard/limits.js'
import { writeIdentity, type WriteMode } from '../../kernels/ir.js'
import { keepsRange, type Backend, type BatchBuffer, type PlaneBlock } from '../backend/backend.js'
import { deaugmentBoxesData, deaugmentKeypointsData } from '../backend/reference/views.js'
import { reduceValue } from '../backend/reference/backend.js'
import { checkDetections, type Coordinates, type Detections } from '../boxes/detections.js'
import { fuseInFrame } from '../boxes/frame.js'
import { accumulator, voteLayout, type Accumulator, type MergeMode } from '../merge/merge.js'
import { checkPreparation, prepareView } from '../merge/prepare.js'
import { spreadAccumulator, type SpreadAccumulator, type SpreadMeasures } from '../merge/spread.js'
import type { Plan } from './plan.js'

/** A run-time tensor: sizes and data. @category model */
export interface RawTensor {
  readonly shape: readonly number[]
  readonly data: Float32Array
}

/** What a run returns: the merged prediction, and the uncertainty measures when the plan asked for them (shape: the prediction's without its class axis). @category model */
export interface RunResult extends RawTensor {
  readonly uncertainty?: { readonly shape: readonly number[]; readonly measures: SpreadMeasures }
}

/**
 * A detection model's answer to one batched call: one entry per image of the batch (views × images,
 * in the batch's order), each to be checked by the interpreter with `boxes.checkDetections`.
 * @example
 * import type { RaggedOutput } from 'tta-lens'
 * const answer: RaggedOutput = { detections: [{ boxes: [[0, 0, 2, 1]], scores: [0.9], labels: [0] }, { boxes: [], scores: [], labels: [] }] }
 * assert.strictEqual(answer.detections.length, 2)
 * @category model
 */
export interface RaggedOutput {
  readonly detections: readonly unknown[]
}

/**
 * What one model call gives the interpreter: a tensor, or (for detection) a list of boxes per image.
 * @example
 * import type { ModelValue } from 'tta-lens'
 * const values: readonly ModelValue[] = [{ shape: [1, 2], data: Float32Array.of(0.1, 0.9) }, { detections: [] }]
 * assert.strictEqual(values.filter((v) => 'detections' in v).length, 1)
 * @category model
 */
export type ModelValue = RawTensor | RaggedOutput

/** What the interpreter needs from the world. @category model */
export interface Effects {
  readonly backend: Backend
  /** One batched model call: a tensor, or for a detection plan a {@link RaggedOutput}. */
  readonly callModel: (input: RawTensor) => Promise<E.Either<TtaError, ModelValue>>
  /** Called after each view is merged. */
  readonly onView?: (done: number, total: number) => void
  /** For keypoints: the model's coordinates are in pixels of the view (true) or normalised (false). */
  readonly pixelKeypoints?: boolean
  /** For detection: the model's box coordinates, pixels of the view (default) or normalised; the result uses the same system, of the input. */
  readonly boxCoordinates?: Coordinates
  /** When to give up: the whole run after `timeout` ms, a model call after `modelTimeout` ms, or on `signal`. */
  readonly cancel?: CancelOptions
}

/**
 * One view's detections of one image, mapped back into the input's frame.
 * @example
 * import type { ViewDetections } from 'tta-lens'
 * const mirrored: ViewDetections = { view: 'HorizontalFlip(true)', index: 1, detections: { boxes: [[4, 1, 6, 3]], scores: [0.9], labels: [0] } }
 * assert.strictEqual(mirrored.detections.boxes.length, 1)
 * @category model
 */
export interface ViewDetections {
  /** The view's name, e.g. `HorizontalFlip(true)`. */
  readonly view: string
  /** Its position in `views(product)`: the order of fusion weights. */
  readonly index: number
  readonly detections: Detections
}

/**
 * What a detection run gives for each input image: the fused detections and each view's, in the input's frame.
 * @example
 * import { boxes, type ImageDetections } from 'tta-lens'
 * const nothing: ImageDetections = { fused: boxes.empty, views: [{ view: 'identity', index: 0, detections: boxes.empty }] }
 * assert.strictEqual(nothing.fused.boxes.length, 0)
 * @category model
 */
export interface ImageDetections {
  readonly fused: Detections
  /** Every view's detections mapped back (clipped, cut boxes dropped when asked), in the order of `views(product)`. */
  readonly views: readonly ViewDetections[]
}

const writeOf = (merge: Exclude<MergeMode, 'vote'>): WriteMode =>
  merge === 'gmean' ? 'add-log' : merge === 'tsharpen' ? 'add-sqrt' : merge === 'max' ? 'max' : merge === 'min' ? 'min' : 'add'

/**
 * The merged values from a reduced accumulator. Plain loops: `Float32Array.from(acc, mapFn)` calls
 * the mapping function through the generic iteration path, about 30× slower here (≈150 ms for a
 * 2×512×512 mask; see docs/benchmarks.md).
 */
const finalize = (merge: Exclude<MergeMode, 'vote'>, acc: Float64Array, n: number): Float32Array => {
  if (merge !== 'mean' && merge !== 'tsharpen' && merge !== 'gmean') return Float32Array.from(acc)
  const out = new Float32Array(acc.length)
  if (merge === 'gmean') for (let i = 0; i < acc.length; i++) out[i] = Math.exp((acc[i] ?? Number.NaN) / n)
  else for (let i = 0; i < acc.length; i++) out[i] = (acc[i] ?? Number.NaN) / n
  return out
}

// Model outputs are checked for non-finite values before they are merged, so a merge refuses a
// negative value for gmean/tsharpen, or a NaN that a custom transform's map made on the way back.
const refusal = (merge: MergeMode, view: string, index: number): TtaError =>
  merge === 'gmean' || merge === 'tsharpen'
    ? mergeError(`${merge} needs non-negative values, but view '${view}' gives a negative or NaN value at index ${index} (ttach would return NaN or a flipped sign; use 'mean', or merge probabilities instead of logits)`)
    : nonFiniteError(`view '${view}'`, index, Number.NaN, ' after being mapped back')

const isPlanLike = (plan: unknown): plan is Plan =>
  typeof plan === 'object' && plan !== null && 'steps' in plan && Array.isArray(plan.steps) && 'chunks' in plan && Array.isArray(plan.chunks) &&
  'views' in plan && Array.isArray(plan.views) && 'image' in plan && Array.isArray(plan.image) && plan.image.length === 4

const isEffects = (effects: unknown): effects is Effects =>
  typeof effects === 'object' && effects !== null && 'callModel' in effects && typeof effects.callModel === 'function' &&
  'backend' in effects && typeof effects.backend === 'object' && effects.backend !== null &&
  'augment' in effects.backend && typeof effects.backend.augment === 'function' && 'reduce' in effects.backend && typeof effects.backend.reduce === 'function'

/**
 * Runs a plan on an image. Returns the merged prediction in the input's frame. The wrappers call
 * it for you; call it directly to supply your own backend or model-calling effect (logging,
 * batching across processes, a remote model).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, buildPlan, orThrow, referenceBackend, runPlan, views } from 'tta-lens'
 * const plan = orThrow(buildPlan('segmentation', views(aliases.d4()), [1, 1, 2, 3], { merge: 'mean' }))
 * const image = { shape: [1, 1, 2, 3], data: Float32Array.of(0, 1, 2, 3, 4, 5) }
 * let calls = 0
 * // An identity "model": every view is undone exactly, so the merge is the image itself.
 * const mask = await runPlan(plan, image, {
 *   backend: referenceBackend(),
 *   callModel: async (x) => { calls++; return E.right(x) },
 * })
 * assert.ok(E.isRight(mask) && mask.right.data.join() === '0,1,2,3,4,5')
 * assert.strictEqual(calls, 2)   // 8 views in 2 chunks (2x3 and 3x2)
 * @category interpreters
 */
export const run = async (plan: Plan, image: RawTensor, effects: Effects): Promise<E.Either<TtaError, RunResult>> => {
  if (isPlanLike(plan) && plan.task === 'detection') return E.left(paramError('this is a detection plan, whose result is boxes: run it with runDetections'))
  const out = await interpret(plan, image, effects)
  return E.flatMap(out, (r) => ('shape' in r ? E.right(r) : E.left(paramError('the plan gave detections, not a tensor'))))
}

/**
 * Runs a detection plan on an image: each view's detections are checked, mapped back into the
 * input's frame, and fused per image with the plan's fusion. Returns one {@link ImageDetections}
 * per image of the batch. The detection wrapper calls it for you.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, buildPlan, orThrow, referenceBackend, runDetections, views } from 'tta-lens'
 * const plan = orThrow(buildPlan('detection', views(aliases.hflip()), [1, 1, 4, 6], { fusion: { method: 'nms' } }))
 * // A "detector" that sees one box at the left edge of whatever it is shown.
 * const found = await runDetections(plan, { shape: [1, 1, 4, 6], data: new Float32Array(24) }, {
 *   backend: referenceBackend(),
 *   callModel: async (x) => E.right({ detections: Array.from({ length: x.shape[0] ?? 0 }, () => ({ boxes: [[0, 1, 2, 3]], scores: [0.9], labels: [0] })) }),
 * })
 * // the mirrored view's box comes back at the right edge: two boxes, which NMS keeps apart
 * assert.ok(E.isRight(found))
 * assert.deepStrictEqual(found.right[0]?.views.map((v) => v.detections.boxes), [[[0, 1, 2, 3]], [[4, 1, 6, 3]]])
 * assert.strictEqual(found.right[0]?.fused.boxes.length, 2)
 * @category interpreters
 */
export const runDetections = async (plan: Plan, image: RawTensor, effects: Effects): Promise<E.Either<TtaError, readonly ImageDetections[]>> => {
  if (isPlanLike(plan) && plan.task !== 'detection') return E.left(paramError(`this is a ${plan.task} plan, whose result is a tensor: run it with runPlan`))
  const out = await interpret(plan, image, effects)
  return E.flatMap(out, (r) => ('shape' in r ? E.left(paramError('the plan gave a tensor, not detections')) : E.right(r)))
}

/** Checks what an untyped caller may get wrong, then runs the steps: never rejects. */
const interpret = async (plan: Plan, image: RawTensor, effects: Effects): Promise<E.Either<TtaError, RunResult | readonly ImageDetections[]>> => {
  if (!isPlanLike(plan)) return E.left(paramError('not a plan: make one with `buildPlan`'))
  if (!isEffects(effects)) return E.left(paramError('effects must be { backend, callModel } (see `Effects`)'))
  const given: unknown = image
  if (typeof given !== 'object' || given === null || !('shape' in given) || !Array.isArray(given.shape) || !('data' in given) || !(given.data instanceof Float32Array)) {
    return E.left(shapeError('the image must be a tensor {shape, data: Float32Array}'))
  }
  if (image.shape.length !== 4 || image.shape.some((d, i) => d !== plan.image[i])) {
    return E.left(shapeError(`the plan was made for an image of [${plan.image.join(',')}] but got [${image.shape.join(',')}]`))
  }
  const expected = plan.image.reduce((a, d) => a * d, 1)
  if (image.data.length !== expected) return E.left(shapeError(`an image of [${plan.image.join(',')}] needs ${expected} values but has ${image.data.length}`))
  const finite = checkFinite(image.data, 'the input image')
  if (E.isLeft(finite)) return finite
  // Model inputs a backend lent: handed back however the run ends.
  const lent: BatchBuffer[] = []
  try {
    return await runSteps(plan, image, effects, lent)
  } catch (e) {
    // What the steps call is user code too (a custom transform's gather, a backend, the model
    // effect, onView) or an allocation the engine refused: report it, never reject.
    if (isAllocationFailure(e)) return E.left(asAllocationError('a buffer of the run', e))
    return E.left(paramError(`a transform failed while running: ${e instanceof Error ? e.message : String(e)}`))
  } finally {
    for (const held of lent) giveBack(held)
  }
}

/** Hands a backend's model input back, when it takes it back; a `release` that throws changes nothing of the result. */
const giveBack = (held: BatchBuffer): void => {
  try {
    if (typeof held.release === 'function') held.release()
  } catch {
    // The run's outcome stands; the backend keeps whatever it did not take back.
  }
}

const runSteps = async (plan: Plan, image: RawTensor, effects: Effects, lent: BatchBuffer[]): Promise<E.Either<TtaError, RunResult | readonly ImageDetections[]>> => {
  const [n, c, h, w] = plan.image
  const cancel = cancellation(effects.cancel)
  const source = { data: image.data, offset: 0, planes: n * c, height: h, width: w }
  // One batch buffer at a time, reused while consecutive chunks have the same shape: keeping one
  // per shape (a full chunk and a remainder) would hold both for the whole run, past the plan's estimate.
  let batch: { readonly key: string; readonly data: Float32Array; readonly held?: BatchBuffer } | undefined
  /** The chunk whose source the backend's own input was last given. */
  let sourced = -1
  let output: RawTensor | undefined
  // Chunk data is held only by `output` and these three, all cleared before the next model call: a
  // suspended async function keeps its locals' last values, so a block-scoped view of the previous
  // prediction would keep all of it alive while the model allocates the next one.
  let called: E.Either<TtaError, ModelValue> | undefined
  let block: Float32Array | undefined
  let values: PlaneBlock | undefined
  let acc: Float64Array | undefined
  let vote: Accumulator | undefined
  let spread: SpreadAccumulator | undefined
  let merged: readonly number[] = []
  let done = 0
  // Detection: the chunk's answer (one entry per batch image) and every view's boxes, mapped back.
  let ragged: readonly unknown[] | undefined
  const collected: { readonly view: number; readonly name: string; readonly perImage: readonly Detections[] }[] = []

  for (const step of plan.steps) {
    const live = cancel.check()
    if (E.isLeft(live)) return live
    switch (step.tag) {
      case 'Augment': {
        const chunk = plan.chunks[step.chunk]
        const view = plan.views[step.view]
        if (chunk === undefined || view === undefined) return E.left(shapeError(`plan step names chunk ${step.chunk}, which does not exist`))
        const key = chunk.input.join('x')
        const perView = n * c * chunk.viewHeight * chunk.viewWidth
        if (batch?.key !== key) {
          // Let the previous buffer go before asking for the next one (a backend's own may serve again).
          const previous = batch?.held
          batch = undefined
          if (previous !== undefined) {
            lent.splice(lent.indexOf(previous), 1)
            giveBack(previous)
          }
          const made = modelInput(plan, effects.backend, chunk.input, source.data.length)
          if (E.isLeft(made)) return made
          batch = { key, ...made.right }
          if (made.right.held !== undefined) lent.push(made.right.held)
          sourced = -1
        }
        const buffer = batch.data
        if (batch.held === undefined) await effects.backend.augment(step.stages, source, buffer, step.slot * perView)
        else {
          // The backend's own input reads the chunk's source from wherever it put it: named once per chunk.
          if (sourced !== step.chunk) {
            batch.held.source(source)
            sourced = step.chunk
          }
          await batch.held.augment(step.stages, step.slot * perView)
        }
        // Add/Multiply (and bicubic's overshoot) can push finite pixels past the float32 range: the
        // model is never fed that. Views that only move and average the (checked) image cannot, on
        // the backends that compute them in float64: their check would cost a pass over the view.
        if (!keepsRange(effects.backend, step.stages)) {
          const fed = checkFinite(buffer, `view '${view.name}'`, ' after augmentation (what the model would be fed)', step.slot * perView, (step.slot + 1) * perView)
          if (E.isLeft(fed)) return fed
        }
        break
      }
      case 'CallModel': {
        const buffer = batch?.key === step.input.join('x') ? batch.data : undefined
        if (buffer === undefined) return E.left(shapeError(`chunk ${step.chunk} was called before it was filled`))
        output = undefined // the previous chunk's prediction is merged: let it go
        block = undefined
        values = undefined
        ragged = undefined
        // No block-scoped name may hold the answer: at the next chunk's await it would still be in
        // the suspended function's frame (V8 keeps a dead local's last value there), keeping this
        // prediction alive during the next model call. `called` is cleared before leaving.
        called = E.flatten(await cancel.race(effects.callModel({ shape: step.input, data: buffer }), `the model call for chunk ${step.chunk}`))
        if (E.isLeft(called)) return called
        if (plan.task === 'detection') {
          if (!('detections' in called.right)) return E.left(modelError(`a detection model must give one list of boxes per image, but chunk ${step.chunk} gave a tensor of shape [${called.right.shape.join(',')}]`))
          if (called.right.detections.length !== step.input[0]) {
            return E.left(modelError(`the model was given a batch of ${step.input[0]} (${(step.input[0] ?? 0) / n} views × ${n} images) but returned detections for ${called.right.detections.length}`))
          }
          ragged = called.right.detections
          called = undefined
          break
        }
        if (!('shape' in called.right)) return E.left(modelError(`a ${plan.task} model must give a tensor, but chunk ${step.chunk} gave detections`))
        if (called.right.shape[0] !== step.input[0]) {
          return E.left(modelError(`the model was given a batch of ${step.input[0]} (${(step.input[0] ?? 0) / n} views × ${n} images) but returned a batch of ${called.right.shape[0]}`))
        }
        output = called.right
        called = undefined
        break
      }
      case 'DeaugmentMerge': {
        const chunk = plan.chunks[step.chunk]
        const view = plan.views[step.view]
        if (plan.task === 'detection') {
          if (ragged === undefined || view === undefined) return E.left(shapeError('plan steps are out of order'))
          const perImage: Detections[] = []
          for (let b = 0; b < n; b++) {
            const where = `view '${view.name}'${n === 1 ? '' : `, image ${b}`}`
            const checked = checkDetections(ragged[step.slot * n + b], where)
            if (E.isLeft(checked)) return checked
            const back = deaugmentBoxesData(view, checked.right, h, w, {
              coordinates: effects.boxCoordinates ?? 'pixels', cutBoxes: plan.boxes?.cutBoxes ?? 'keep', where,
            })
            if (E.isLeft(back)) return back
            perImage.push(back.right)
          }
          collected.push({ view: step.view, name: view.name, perImage })
          done++
          const told = tell(effects, done, plan.views.length)
          if (E.isLeft(told)) return told
          break
        }
        if (output === undefined || chunk === undefined || view === undefined) return E.left(shapeError('plan steps are out of order'))
        const [, k = 1, ...rest] = output.shape
        const per = output.data.length / chunk.views.length
        block = output.data.subarray(step.slot * per, (step.slot + 1) * per)
        const predicted = checkFinite(block, `view '${view.name}'`, ' in the model output')
        if (E.isLeft(predicted)) return predicted
        let shape: readonly number[]
        if (plan.task === 'segmentation') {
          if (output.shape.length !== 4 || rest[0] !== chunk.viewHeight || rest[1] !== chunk.viewWidth) {
            return E.left(shapeError(`a segmentation model must return [N,K,${chunk.viewHeight},${chunk.viewWidth}] for view '${view.name}', but gave [${output.shape.join(',')}]`))
          }
          shape = [n, k, h, w]
          values = { data: block, offset: 0, planes: n * k, height: chunk.viewHeight, width: chunk.viewWidth }
        } else if (plan.task === 'keypoints') {
          const perImage = per / n
          if (perImage % 2 !== 0) return E.left(shapeError(`a keypoint model must return [N, 2K] coordinates, but view '${view.name}' gave [${output.shape.join(',')}]`))
          // Normalise by the size of the view the model saw (ttach uses the input's size: wrong after a turn).
          const normalised = effects.pixelKeypoints === true
            ? block.map((v, i) => (i % 2 === 0 ? v / chunk.viewWidth : v / chunk.viewHeight)) : block.slice()
          const back = deaugmentKeypointsData(view, [n, perImage / 2, 2], normalised, h, w)
          if (E.isLeft(back)) return back
          shape = [n, perImage]
          values = { data: back.right, offset: 0, planes: 1, height: 1, width: per }
        } else {
          shape = [n, ...output.shape.slice(1)]
          values = { data: block, offset: 0, planes: 1, height: 1, width: per }
        }
        const size = shape.reduce((a, d) => a * d, 1)
        if (done === 0) {
          merged = shape
          if (plan.merge === 'vote') vote = accumulator('vote', size, voteLayout(shape))
          else {
            const made = allocate(Float64Array, size, `the merge of [${shape.join(',')}]`)
            if (E.isLeft(made)) return made
            acc = made.right.fill(writeIdentity(writeOf(plan.merge)))
          }
          if (plan.uncertainty !== undefined) spread = spreadAccumulator(voteLayout(shape), plan.uncertainty)
          if (plan.combine !== undefined) {
            const checked = checkPreparation(plan.combine, plan.views.length, shape[1])
            if (E.isLeft(checked)) return checked
          }
        } else if (shape.length !== merged.length || shape.some((d, i) => d !== merged[i])) {
          return E.left(shapeError(`view '${view.name}' gives a prediction of shape [${shape.join(',')}] but earlier views gave [${merged.join(',')}]`))
        }
        const stages = plan.task === 'segmentation' ? step.stages : []
        if (vote !== undefined || plan.combine !== undefined || spread !== undefined) {
          // The view mapped back on its own (one prediction's worth of scratch), then measured,
          // prepared and merged: what the fused reduce does in one pass when nothing else is asked.
          const back = new Float64Array(size)
          await effects.backend.reduce(stages, values, back, 'store')
          const measured = spread?.add(back)
          if (measured !== undefined && E.isLeft(measured)) return E.left(mergeError(`view '${view.name}': ${measured.left.message}`))
          const ready = plan.combine === undefined ? back : prepareView(plan.combine, step.view, back, voteLayout(shape))
          if (vote !== undefined) {
            const added = vote.add(ready)
            if (E.isLeft(added)) return E.left(added.left._tag === 'MergeError' ? mergeError(`view '${view.name}': ${added.left.message}`) : added.left)
          } else if (acc !== undefined && plan.merge !== 'vote') {
            const bad = reduceAll(acc, ready, writeOf(plan.merge))
            if (bad >= 0) return E.left(refusal(plan.merge, view.name, bad))
          }
        } else if (acc !== undefined && plan.merge !== 'vote') {
          const bad = plan.task === 'keypoints'
            ? reduceAll(acc, values.data, writeOf(plan.merge))
            : await effects.backend.reduce(stages, values, acc, writeOf(plan.merge))
          if (bad >= 0) return E.left(refusal(plan.merge, view.name, bad))
        }
        done++
        const told = tell(effects, done, plan.views.length)
        if (E.isLeft(told)) return told
        break
      }
      case 'Finalize': {
        if (plan.task === 'detection') {
          const fusion = step.fusion ?? plan.boxes?.fusion ?? { method: 'wbf' }
          // Reference order, so that per-view fusion weights meet their views.
          const ordered = [...collected].sort((a, b) => a.view - b.view)
          if (ordered.length !== plan.views.length) return E.left(mergeError(`only ${ordered.length} of ${plan.views.length} views gave detections`))
          const frame = { height: h, width: w, coordinates: effects.boxCoordinates ?? 'pixels' }
          const images: ImageDetections[] = []
          for (let b = 0; b < n; b++) {
            const views = ordered.map((v): ViewDetections => ({ view: v.name, index: v.view, detections: v.perImage[b] ?? { boxes: [], scores: [], labels: [] } }))
            // The same function a cache of per-view detections fuses with (boxes.fuseInFrame): one code path.
            const fused = fuseInFrame(views.map((v) => v.detections), frame, { fusion, ...(plan.boxes?.minScore === undefined ? {} : { minScore: plan.boxes.minScore }) })
            if (E.isLeft(fused)) return fused
            images.push({ fused: fused.right, views })
          }
          return E.right(images)
        }
        const measures = spread?.result()
        if (measures !== undefined && E.isLeft(measures)) return measures
        const uncertainty = measures === undefined ? {} : { uncertainty: { shape: [merged[0] ?? n, ...merged.slice(2)], measures: measures.right } }
        if (vote !== undefined) return E.Functor.map(vote.result(), (data) => ({ shape: merged, data, ...uncertainty }))
        if (acc === undefined || step.merge === 'vote') return E.left(mergeError('nothing to merge: no view was added'))
        const data = finalize(step.merge, acc, step.views)
        if (plan.task === 'keypoints' && effects.pixelKeypoints === true) {
          for (let i = 0; i < data.length; i++) data[i] = (data[i] ?? 0) * (i % 2 === 0 ? w : h)
        }
        // A sum of large finite values can pass the float32 range: never returned as a result.
        return E.Functor.map(checkFinite(data, 'merged result', ' (beyond the float32 range)'), () => ({ shape: merged, data, ...uncertainty }))
      }
    }
  }
  return E.left(mergeError('the plan has no Finalize step'))
}

/** A value an untyped backend's `batch` may return: checked before the interpreter uses it. */
const isBatchBuffer = (held: unknown, length: number): held is BatchBuffer =>
  typeof held === 'object' && held !== null && 'data' in held && held.data instanceof Float32Array && held.data.length === length &&
  'source' in held && typeof held.source === 'function' && 'augment' in held && typeof held.augment === 'function'

/**
 * A chunk's model input: the backend's own when it offers one within what the plan's budget leaves
 * for it (its peak, less the largest input, is already spoken for), else a Float32Array allocated here.
 */
const modelInput = (plan: Plan, backend: Backend, input: readonly number[], sourceLength: number): E.Either<TtaError, { readonly data: Float32Array; readonly held?: BatchBuffer }> => {
  const length = input.reduce((a, d) => a * d, 1)
  const what = `the model input [${input.join(',')}]`
  const memory: Partial<Plan['memory']> = typeof plan.memory === 'object' && plan.memory !== null ? plan.memory : {}
  const maxBytes = (memory.budget ?? limits.defaultBudget) - (memory.peak ?? Number.NaN) + (memory.chunkInput ?? Number.NaN)
  if (typeof backend.batch === 'function' && Number.isFinite(maxBytes)) {
    const held: unknown = backend.batch({ length, sourceLength, maxBytes })
    if (held !== undefined) {
      if (!isBatchBuffer(held, length)) return E.left(paramError(`backend.batch must return undefined or { data: a Float32Array of ${length} values, source, augment } for ${what}`))
      return E.right({ data: held.data, held })
    }
  }
  return E.Functor.map(allocate(Float32Array, length, what), (data) => ({ data }))
}

/** Reports progress; a callback that throws is a typed error, not a rejection. */
const tell = (effects: Effects, done: number, total: number): E.Either<TtaError, void> => {
  if (effects.onView === undefined) return E.right(undefined)
  try {
    effects.onView(done, total)
    return E.right(undefined)
  } catch (e) {
    return E.left(paramError(`the onView callback threw: ${e instanceof Error ? e.message : String(e)}`))
  }
}

const reduceAll = (acc: Float64Array, values: ArrayLike<number>, write: WriteMode): number => {
  let bad = -1
  for (let o = 0; o < values.length; o++) if (!reduceValue(acc, o, values[o] ?? Number.NaN, write) && bad < 0) bad = o
  return bad
}
