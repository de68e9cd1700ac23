/**
 * The `dryRun` interpreter: walks a plan with shapes only and checks every model call against the
 * model's declared signature before any data is touched. With an output signature it also
 * predicts each call's output and the merged result's shape.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, type ShapeError } from '../errors.js'
import type { Dim } from '../tensor/shape.js'
import { bindShape } from '../tensor/tensor.js'
import type { ModelSignature, Plan, Task } from './plan.js'

/** What {@link dryRun} found: each model call's input (and output, when the signature gives one) and the merged shape. @category model */
export interface DryRunReport {
  readonly calls: readonly { readonly chunk: number; readonly input: readonly number[]; readonly output?: readonly number[] }[]
  /** The merged prediction's shape, when the output signature makes it knowable. */
  readonly result?: readonly number[]
}

const resolveDims = (spec: readonly Dim[], bound: ReadonlyMap<string, number>): readonly number[] | undefined => {
  const out: number[] = []
  for (const d of spec) {
    const v = typeof d === 'number' ? d : bound.get(d)
    if (v === undefined) return undefined
    out.push(v)
  }
  return out
}

const isDims = (value: unknown): value is readonly Dim[] =>
  Array.isArray(value) && value.every((d) => typeof d === 'string' || (typeof d === 'number' && Number.isInteger(d) && d > 0))

const checkSignature = (signature: unknown): E.Either<ShapeError, void> => {
  if (typeof signature !== 'object' || signature === null) return E.left(shapeError('a model signature must be an object { input?, output?, maxBatch? }'))
  for (const key of ['input', 'output'] as const) {
    const dims: unknown = Object.entries(signature).find(([k]) => k === key)?.[1]
    if (dims !== undefined && !isDims(dims)) return E.left(shapeError(`signature.${key} must be an array of positive integers and names`))
  }
  const maxBatch: unknown = Object.entries(signature).find(([k]) => k === 'maxBatch')?.[1]
  if (maxBatch !== undefined && !(typeof maxBatch === 'number' && Number.isInteger(maxBatch) && maxBatch > 0)) {
    return E.left(shapeError('signature.maxBatch must be a positive integer'))
  }
  return E.right(undefined)
}

/**
 * What a task needs of the model's output, checked from its declared shape before any call or
 * image: a segmentation model returns `[N, K, H, W]` masks (a classifier's `[N, K]` cannot be
 * mapped back), a keypoint model `[N, 2K]`; a classifier's scores may have any shape.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { taskFits } from 'tta-lens'
 * assert.ok(E.isRight(taskFits('segmentation', ['N', 2, 'H', 'W'])))
 * const classifier = taskFits('segmentation', ['N', 5])
 * assert.ok(E.isLeft(classifier) && classifier.left.message ===
 *   "a segmentation model must return [N,K,H,W] masks, but this model's output is [N,5] (a classifier?)")
 * assert.ok(E.isLeft(taskFits('keypoints', ['N', 5])))
 * @category utils
 */
export const taskFits = (task: Task, output: readonly Dim[] | undefined): E.Either<ShapeError, void> => {
  if (output === undefined || output.length === 0) return E.right(undefined)
  const shown = `[${output.join(',')}]`
  if (task === 'segmentation' && output.length !== 4) {
    return E.left(shapeError(`a segmentation model must return [N,K,H,W] masks, but this model's output is ${shown}${output.length === 2 ? ' (a classifier?)' : ''}`))
  }
  if (task === 'keypoints') {
    const last = output[1]
    if (output.length !== 2 || (typeof last === 'number' && last % 2 !== 0)) {
      return E.left(shapeError(`a keypoint model must return [N,2K] coordinates (x, y per point), but this model's output is ${shown}`))
    }
  }
  return E.right(undefined)
}

/**
 * Checks a plan against a model signature: catches a view the model cannot take (a turn of a
 * non-square image for a fixed-size model, a batch over the limit) before any data is touched.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, buildPlan, dryRun, orThrow, views } from 'tta-lens'
 * const plan = orThrow(buildPlan('segmentation', views(aliases.d4()), [1, 3, 4, 6], { merge: 'mean' }))
 * const report = dryRun(plan, { input: ['N', 3, 'H', 'W'], output: ['N', 2, 'H', 'W'] })
 * assert.ok(E.isRight(report) && report.right.result?.join() === '1,2,4,6')
 * const fixed = dryRun(plan, { input: ['N', 3, 4, 6] })   // the turned views are 6x4
 * assert.ok(E.isLeft(fixed) && fixed.left.message.includes('Rotate90(90)'))
 * @category interpreters
 */
export const dryRun = (plan: Plan, signature: ModelSignature): E.Either<ShapeError, DryRunReport> => {
  const given: unknown = plan
  if (typeof given !== 'object' || given === null || !('chunks' in given) || !Array.isArray(given.chunks) || !('views' in given) || !Array.isArray(given.views)) {
    return E.left(shapeError('dryRun needs a plan made by `buildPlan`'))
  }
  const declared = checkSignature(signature)
  if (E.isLeft(declared)) return declared
  const fitsTask = taskFits(plan.task, signature.output)
  if (E.isLeft(fitsTask)) return fitsTask
  const calls: { chunk: number; input: readonly number[]; output?: readonly number[] }[] = []
  for (const chunk of plan.chunks) {
    if (signature.maxBatch !== undefined && chunk.input[0] > signature.maxBatch) {
      return E.left(shapeError(`chunk ${chunk.index} would call the model with a batch of ${chunk.input[0]}, but it takes at most ${signature.maxBatch}`))
    }
    let output: readonly number[] | undefined
    if (signature.input !== undefined) {
      const bound = bindShape(signature.input, chunk.input)
      if (E.isLeft(bound)) {
        const names = chunk.views.map((v) => plan.views[v]?.name ?? String(v)).join(', ')
        return E.left(shapeError(`view${chunk.views.length === 1 ? '' : 's'} ${names} give${chunk.views.length === 1 ? 's' : ''} a model input of [${chunk.input.join(',')}], which does not fit the model's input [${signature.input.join(',')}]: ${bound.left.message}`))
      }
      if (signature.output !== undefined) output = resolveDims(signature.output, bound.right)
    }
    const [, , oh, ow] = plan.task === 'segmentation' && signature.output !== undefined && signature.output.length === 4
      ? signature.output.map((d) => (typeof d === 'number' ? d : output?.[signature.output?.indexOf(d) ?? -1])) : []
    if ((typeof oh === 'number' && oh !== chunk.viewHeight) || (typeof ow === 'number' && ow !== chunk.viewWidth)) {
      return E.left(shapeError(`a segmentation model must return masks of the view's size ${chunk.viewHeight}x${chunk.viewWidth}, but this model's output [${signature.output?.join(',') ?? ''}] would be ${String(oh)}x${String(ow)} for chunk ${chunk.index}`))
    }
    calls.push(output === undefined ? { chunk: chunk.index, input: chunk.input } : { chunk: chunk.index, input: chunk.input, output })
  }
  const [n = 1, , h = 1, w = 1] = plan.image
  const first = calls[0]?.output
  // Detections are ragged: a list of boxes per image, whose length no signature can know.
  const result = first === undefined || plan.task === 'detection' ? undefined
    : plan.task === 'segmentation' ? [n, first[1] ?? 1, h, w]
      : [n, ...first.slice(1)]
  return E.right(result === undefined ? { calls } : { calls, result })
}
