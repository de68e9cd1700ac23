/**
 * The pipeline as data. A `Plan` is built once from (task × views × image shape × merge ×
 * budget × what is known of the model) and says everything the run will do: which views, grouped
 * into which chunks (one batched model call each), the stages each view runs on the way in and on
 * the way back, and the memory it needs. Interpreters give it meaning: `run` (real data),
 * `dryRun` (shapes only, against the model's declared signature), `explain` (words).
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { limitError, paramError, shapeError, type TtaError } from '../errors.js'
import type { ViewSpec } from '../algebra/product.js'
import { parseFusionOptions, type FusionOptions } from '../boxes/fusion-options.js'
import { checkMinScore } from '../boxes/frame.js'
import { parseMergeMode, type MergeMode } from '../merge/merge.js'
import { checkPreparation, type ViewPreparation } from '../merge/prepare.js'
import type { ScoreKind } from '../merge/spread.js'
import type { Dim } from '../tensor/shape.js'
import { boxMaps } from '../transform/box-map.js'
import { chainSizes, resolveAugment, resolveUndoMask, undoPoint, type Stage } from '../transform/step.js'
import { checkCount, checkElements, limits } from '../guard/limits.js'
import { showValue } from '../guard/decode.js'
import { parseBudget, showBytes, type Budget } from './budget.js'

/**
 * What the model predicts, which decides how each view's prediction is mapped back: masks,
 * class scores, keypoints (tensors, merged), or detections (ragged lists of boxes, fused).
 * @category model
 */
export type Task = 'segmentation' | 'classification' | 'keypoints' | 'detection'
const tasks: readonly Task[] = ['segmentation', 'classification', 'keypoints', 'detection']

/**
 * How a detection plan combines its views: the fusion that merges the boxes, and what happens to
 * boxes a view's inner border cut (see `deaugmentBoxesData`).
 * @example
 * import type { BoxPlan } from 'tta-lens'
 * const tiled: BoxPlan = { fusion: { method: 'wbf', iouThreshold: 0.55 }, cutBoxes: 'drop' }
 * assert.strictEqual(tiled.fusion.method, 'wbf')
 * @category model
 */
export interface BoxPlan {
  readonly fusion: FusionOptions
  readonly cutBoxes: 'keep' | 'drop'
  /** Fused boxes scoring below this are dropped (see `boxes.fuseInFrame`); absent: all kept. */
  readonly minScore?: number
}

/** What is known of a model before it runs (from an ONNX file's metadata, or declared). @category model */
export interface ModelSignature {
  /** Input shape; names are free sizes (`['N', 3, 'H', 'W']`). */
  readonly input?: readonly Dim[]
  /** Output shape, in the same names as the input where they correspond. */
  readonly output?: readonly Dim[]
  /** Most images one call accepts (a fixed batch of 1 gives 1). */
  readonly maxBatch?: number
}

/** One batched model call: views of the same size, stacked along the batch axis. @category model */
export interface Chunk {
  readonly index: number
  readonly views: readonly number[]
  readonly viewHeight: number
  readonly viewWidth: number
  /** `[N·V, C, h, w]` */
  readonly input: readonly [number, number, number, number]
}

/** One instruction of a plan: augment a view into a chunk, call the model, map a view back and merge, finish. @category model */
export type PlanStep =
  | { readonly tag: 'Augment'; readonly chunk: number; readonly view: number; readonly slot: number; readonly stages: readonly Stage[] }
  | { readonly tag: 'CallModel'; readonly chunk: number; readonly input: readonly number[] }
  | { readonly tag: 'DeaugmentMerge'; readonly chunk: number; readonly view: number; readonly slot: number; readonly stages: readonly Stage[] }
  /** Merge the views' tensors; for detection, fuse each image's boxes with `fusion`. */
  | { readonly tag: 'Finalize'; readonly merge: MergeMode; readonly views: number; readonly fusion?: FusionOptions }

/** Bytes the run holds at its peak, by part. @category model */
export interface MemoryEstimate {
  readonly image: number
  /** The largest chunk's model input. */
  readonly chunkInput: number
  /** The largest chunk's model output (estimated from the output channels). */
  readonly chunkOutput: number
  /** The running merge (float64). */
  readonly accumulator: number
  readonly peak: number
  /** The budget the chunks were sized for: the one given, or {@link limits}.defaultBudget. */
  readonly budget: number | undefined
  /** Whether `budget` is the default (no budget was given). */
  readonly defaultBudget?: boolean
}

/** Everything a run will do, as data: views, chunks, steps and the memory estimate (see {@link buildPlan}). @category model */
export interface Plan {
  readonly task: Task
  readonly image: readonly [number, number, number, number]
  readonly views: readonly ViewSpec[]
  /** How tensor predictions merge (detection plans fuse boxes instead: see `boxes`). */
  readonly merge: MergeMode
  /** Detection plans only: the fusion and the rule for cut boxes. */
  readonly boxes?: BoxPlan
  readonly chunks: readonly Chunk[]
  readonly steps: readonly PlanStep[]
  readonly memory: MemoryEstimate
  /** Output channels the estimate assumed (known from the signature, else the input's channels). */
  readonly outputChannels: number
  /** How each view is prepared before the merge (probabilities, weights), if at all. */
  readonly combine?: ViewPreparation
  /** Uncertainty measures to stream alongside the merge, reading the views' outputs as these scores. */
  readonly uncertainty?: ScoreKind
}

/** What {@link buildPlan} needs besides the task, views and image: merge mode, budget, batch limits, the model's signature. @category model */
export interface PlanOptions {
  /** How tensor predictions merge; default `'mean'`. */
  readonly merge?: MergeMode
  /** Detection only: how the views' boxes are fused; default `{ method: 'wbf' }`. */
  readonly fusion?: FusionOptions
  /** Detection only: `'drop'` boxes cut by a view's inner border; default `'keep'`. */
  readonly cutBoxes?: 'keep' | 'drop'
  /** Detection only: fused boxes scoring below this are dropped; default 0 (all kept). */
  readonly minScore?: number
  /** Byte budget for the run (bytes, or text such as `'512MiB'`); sets the chunk size. */
  readonly budget?: Budget
  /** Most images per model call (the model's fixed batch, or a user limit). */
  readonly maxBatch?: number
  /** `false` runs one view per call, as ttach does. Default true. */
  readonly batch?: boolean
  readonly signature?: ModelSignature
  /** Prepare each view before the merge: class probabilities, per-view or per-class weights. Not for keypoints. */
  readonly combine?: ViewPreparation
  /** Stream uncertainty measures (entropy, mutual information, variance, agreement) across views. Not for keypoints. */
  readonly uncertainty?: ScoreKind
}

const F32 = 4
const F64 = 8

const outputChannelsOf = (task: Task, channels: number, signature: ModelSignature | undefined): number => {
  const declared = signature?.output?.[1]
  if (typeof declared === 'number') return declared
  return task === 'segmentation' ? channels : 1
}

/**
 * Builds the plan, or says why there is none: a view that does not fit the image, a target the
 * views cannot undo, a batch the model cannot take, a budget too small for one view. Use it to
 * inspect or tune a run (chunks, memory) before any data or model is involved.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, buildPlan, views } from 'tta-lens'
 * // d4 on a 4x6 image: 4 views stay 4x6 and 4 become 6x4, so two model calls of 4 views each.
 * const plan = buildPlan('segmentation', views(aliases.d4()), [1, 3, 4, 6], { merge: 'mean' })
 * assert.ok(E.isRight(plan))
 * assert.deepStrictEqual(plan.right.chunks.map((c) => c.input), [[4, 3, 4, 6], [4, 3, 6, 4]])
 * const small = buildPlan('segmentation', views(aliases.d4()), [1, 3, 4, 6], { merge: 'mean', maxBatch: 2 })
 * assert.ok(E.isRight(small) && small.right.chunks.length === 4)
 * const crops = E.Functor.map(aliases.fiveCrop(2, 2), (p) => buildPlan('segmentation', views(p), [1, 3, 4, 6], { merge: 'mean' }))
 * assert.ok(E.isRight(crops) && E.isLeft(crops.right))   // crops cannot put a mask back
 * @category constructors
 */
export const buildPlan = (task: Task, views: readonly ViewSpec[], image: readonly number[], options: PlanOptions): E.Either<TtaError, Plan> => {
  const checked = checkArguments(task, views, image, options)
  if (E.isLeft(checked)) return checked
  const [n = 0, c = 0, h = 0, w = 0] = image
  const parsedBudget = options.budget === undefined ? E.right(limits.defaultBudget) : parseBudget(options.budget)
  if (E.isLeft(parsedBudget)) return parsedBudget
  const budget = parsedBudget.right
  const budgetWords = options.budget === undefined
    ? `the default memory budget of ${showBytes(budget)} (pass a larger \`budget\` to allow it)`
    : `a memory budget of ${showBytes(budget)}`
  const imageSize = checkElements('the image', image)
  if (E.isLeft(imageSize)) return imageSize
  if (task === 'keypoints' && (options.combine !== undefined || options.uncertainty !== undefined)) {
    return E.left(paramError('keypoints have no classes: combine (probabilities, weights) and uncertainty apply to classification and segmentation'))
  }
  if (task === 'detection' && (options.combine !== undefined || options.uncertainty !== undefined)) {
    return E.left(paramError('detections are fused, not merged: combine and uncertainty apply to classification and segmentation (weigh views with fusion.weights)'))
  }
  if (options.uncertainty !== undefined && options.uncertainty !== 'logits' && options.uncertainty !== 'probabilities') {
    return E.left(paramError(`uncertainty must be 'logits' or 'probabilities' (what the model returns), got '${String(options.uncertainty)}'`))
  }
  if (options.combine !== undefined) {
    const prepared = checkPreparation(options.combine, views.length, undefined)
    if (E.isLeft(prepared)) return prepared
  }
  const merge = options.merge ?? 'mean'
  let boxes: BoxPlan | undefined
  if (task === 'detection') {
    const fusion = parseFusionOptions(options.fusion ?? { method: 'wbf' })
    if (E.isLeft(fusion)) return fusion
    const weights = fusion.right.weights
    if (weights !== undefined && weights.length !== views.length) {
      return E.left(paramError(`fusion weights has ${weights.length} entr${weights.length === 1 ? 'y' : 'ies'} for ${views.length} view${views.length === 1 ? '' : 's'}; give one weight per view, in the order of views(product)`))
    }
    const cut: unknown = options.cutBoxes ?? 'keep'
    if (cut !== 'keep' && cut !== 'drop') return E.left(paramError(`cutBoxes must be 'keep' or 'drop', got ${String(cut)}`))
    const minScore = options.minScore === undefined ? E.right(undefined) : checkMinScore(options.minScore)
    if (E.isLeft(minScore)) return minScore
    boxes = { fusion: fusion.right, cutBoxes: cut, ...(minScore.right === undefined ? {} : { minScore: minScore.right }) }
  }

  const sized: { view: number; height: number; width: number; augment: readonly Stage[]; undo: readonly Stage[] }[] = []
  for (const [index, view] of views.entries()) {
    const sizes = chainSizes(view.steps, h, w)
    if (E.isLeft(sizes)) return sizes
    // Every intermediate plane the view makes (on the way in, and back for a mask) is allocated: check each before any is.
    for (const [sh, sw] of sizes.right) {
      const big = checkElements(`a buffer of view '${view.name}'`, [n, task === 'segmentation' ? Math.max(c, outputChannelsOf(task, c, options.signature)) : c, sh, sw])
      if (E.isLeft(big)) return big
    }
    const [vh = h, vw = w] = sizes.right[sizes.right.length - 1] ?? []
    const augment = resolveAugment(view.steps, h, w)
    if (E.isLeft(augment)) return augment
    let undo: readonly Stage[] = []
    if (task === 'segmentation') {
      const stages = resolveUndoMask(view.steps, h, w)
      if (E.isLeft(stages)) return stages
      undo = stages.right
    } else if (task === 'keypoints') {
      const points = undoPoint(view.steps, sizes.right)
      if (E.isLeft(points)) return points
    } else if (task === 'detection') {
      const maps = boxMaps(view.steps, h, w)
      if (E.isLeft(maps)) return maps
    }
    sized.push({ view: index, height: vh, width: vw, augment: augment.right, undo })
  }

  const outputChannels = outputChannelsOf(task, c, options.signature)
  const perView = (vh: number, vw: number): { input: number; output: number } => ({
    input: n * c * vh * vw * F32,
    output: task === 'segmentation' ? n * outputChannels * vh * vw * F32 : n * Math.max(outputChannels, 1) * 64 * F32,
  })
  const imageBytes = n * c * h * w * F32
  // The running merge, plus one view-sized scratch when views are prepared or measured, plus the
  // uncertainty's three running sums (probabilities, squared deviations, votes): O(output), not O(views).
  const copies = 1 + (options.combine !== undefined || options.uncertainty !== undefined ? 1 : 0) + (options.uncertainty !== undefined ? 3 : 0)
  const accumulator = (task === 'segmentation' ? n * outputChannels * h * w : n * Math.max(outputChannels, 1) * 64) * F64 * copies

  const maxBatch = options.maxBatch ?? options.signature?.maxBatch
  if (maxBatch !== undefined && maxBatch < n) {
    return E.left(shapeError(`the model takes at most ${maxBatch} image${maxBatch === 1 ? '' : 's'} per call, but the batch has ${n}`))
  }
  const byBatch = options.batch === false ? 1 : maxBatch === undefined ? Number.POSITIVE_INFINITY : Math.floor(maxBatch / n)

  // Group views of one size in reference order of first appearance; split groups into chunks.
  const groups = new Map<string, typeof sized>()
  for (const s of sized) {
    const key = `${s.height}x${s.width}`
    groups.set(key, [...(groups.get(key) ?? []), s])
  }
  const chunks: Chunk[] = []
  const steps: PlanStep[] = []
  let largest = { input: 0, output: 0 }
  for (const group of groups.values()) {
    const first = group[0]
    if (first === undefined) continue
    const bytes = perView(first.height, first.width)
    let capacity = byBatch
    const room = budget - imageBytes - accumulator
    const fits = Math.floor(room / (bytes.input + bytes.output))
    if (fits < 1) {
      const need = imageBytes + accumulator + bytes.input + bytes.output
      return E.left(limitError('budget', need, budget, `${budgetWords} is too small for one view: the image, the merge and one ${first.height}x${first.width} view need ${showBytes(need)}`))
    }
    capacity = Math.min(capacity, fits)
    for (let start = 0; start < group.length; start += capacity) {
      const members = group.slice(start, start + capacity)
      const index = chunks.length
      const input: Chunk['input'] = [n * members.length, c, first.height, first.width]
      chunks.push({ index, views: members.map((m) => m.view), viewHeight: first.height, viewWidth: first.width, input })
      members.forEach((m, slot) => steps.push({ tag: 'Augment', chunk: index, view: m.view, slot, stages: m.augment }))
      steps.push({ tag: 'CallModel', chunk: index, input })
      members.forEach((m, slot) => steps.push({ tag: 'DeaugmentMerge', chunk: index, view: m.view, slot, stages: m.undo }))
      if (members.length * bytes.input > largest.input) largest = { input: members.length * bytes.input, output: members.length * bytes.output }
    }
  }
  steps.push(boxes === undefined ? { tag: 'Finalize', merge, views: views.length } : { tag: 'Finalize', merge, views: views.length, fusion: boxes.fusion })
  const peak = imageBytes + largest.input + largest.output + accumulator
  return E.right({
    task, image: [n, c, h, w], views, merge, chunks, steps, outputChannels,
    memory: { image: imageBytes, chunkInput: largest.input, chunkOutput: largest.output, accumulator, peak, budget, ...(options.budget === undefined ? { defaultBudget: true } : {}) },
    ...(options.combine === undefined ? {} : { combine: options.combine }),
    ...(options.uncertainty === undefined ? {} : { uncertainty: options.uncertainty }),
    ...(boxes === undefined ? {} : { boxes }),
  })
}

const isViewSpec = (v: unknown): boolean =>
  typeof v === 'object' && v !== null && 'name' in v && typeof v.name === 'string' && 'steps' in v && Array.isArray(v.steps)

/** What an untyped caller can get wrong about buildPlan's arguments, checked before anything else. */
const checkArguments = (task: unknown, views: unknown, image: unknown, options: unknown): E.Either<TtaError, void> => {
  if (!tasks.some((t) => t === task)) return E.left(paramError(`task must be one of ${tasks.join(', ')}, got ${showValue(task)}`))
  if (!Array.isArray(views) || !views.every(isViewSpec)) return E.left(paramError('views must be the views of a product (see `views`)'))
  if (views.length === 0) return E.left(paramError('the transform product has no views'))
  if (views.length > limits.maxViews) {
    return E.left(limitError('maxViews', views.length, limits.maxViews, `the product has ${views.length.toLocaleString('en-US')} views; the limit is ${limits.maxViews.toLocaleString('en-US')}`))
  }
  if (!Array.isArray(image) || image.length !== 4) return E.left(shapeError(`the image must be NCHW (rank 4) but has shape ${Array.isArray(image) ? `[${image.join(',')}]` : showValue(image)}`))
  const badDim = image.findIndex((d) => typeof d !== 'number' || !Number.isInteger(d) || d < 1)
  if (badDim >= 0) return E.left(shapeError(`dimension ${badDim} of the image [${image.map(String).join(',')}] must be a positive integer`))
  if (typeof options !== 'object' || options === null) return E.left(paramError(`plan options must be an object such as { merge: 'mean' }, got ${showValue(options)}`))
  const field = (key: string): unknown => Object.entries(options).find(([k]) => k === key)?.[1]
  const merge = field('merge') === undefined ? E.right('mean') : parseMergeMode(field('merge'))
  if (E.isLeft(merge)) return E.left(paramError(`merge: ${merge.left.message}`))
  const maxBatch = field('maxBatch')
  if (maxBatch !== undefined) {
    const counted = checkCount('maxBatch', maxBatch, Number.MAX_SAFE_INTEGER)
    if (E.isLeft(counted)) return counted
  }
  const batch = field('batch')
  if (batch !== undefined && typeof batch !== 'boolean') return E.left(paramError(`batch must be true or false, got ${showValue(batch)}`))
  const signature = field('signature')
  if (signature !== undefined && (typeof signature !== 'object' || signature === null)) return E.left(paramError(`signature must be an object, got ${showValue(signature)}`))
  return E.right(undefined)
}
