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
import type { ModelSignature, Plan } from './plan.js'

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
