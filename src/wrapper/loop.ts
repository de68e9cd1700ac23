/**
 * The loop every wrapper shares: for each view in reference order, augment, call the model once,
 * map the prediction back and add it to the running merge. One view's data is alive at a time.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, type TtaError } from '../errors.js'
import type { ViewSpec } from '../algebra/product.js'
import { augmentImageData } from '../backend/reference/views.js'
import { accumulator, voteLayout, type Accumulator, type MergeMode } from '../merge/merge.js'
import { assumeShape } from '../tensor/trusted.js'
import type { Shape } from '../tensor/shape.js'
import { callModel, decodeOutput, type Callable, type RawTensor } from './model.js'

/** @internal */
export interface LoopInput {
  readonly specs: readonly ViewSpec[]
  readonly image: RawTensor
  readonly model: Callable
  readonly extra: readonly unknown[]
  readonly outputKey: string | undefined
  readonly mode: MergeMode
  /** Maps one view's raw prediction back into the input frame (flat values + shape). */
  readonly deaugment: (spec: ViewSpec, output: RawTensor, view: RawTensor) => E.Either<TtaError, RawTensor>
  /** Called after each view, e.g. for a progress bar. */
  readonly onView?: (done: number, total: number) => void
}

/** @internal */
export const runLoop = async (input: LoopInput): Promise<E.Either<TtaError, RawTensor>> => {
  let acc: Accumulator | undefined
  let merged: readonly number[] = []
  for (const spec of input.specs) {
    const view = augmentImageData(spec, input.image.shape, input.image.data)
    if (E.isLeft(view)) return view
    const called = await callModel(input.model, assumeShape<Shape>(view.right.shape, view.right.data), input.extra, spec.name)
    if (E.isLeft(called)) return called
    const output = decodeOutput(called.right, input.outputKey, spec.name)
    if (E.isLeft(output)) return output
    const back = input.deaugment(spec, output.right, view.right)
    if (E.isLeft(back)) return back
    const { shape, data } = back.right
    if (acc === undefined) {
      acc = accumulator(input.mode, data.length, voteLayout(shape))
      merged = shape
    } else if (shape.length !== merged.length || shape.some((d, i) => d !== merged[i])) {
      return E.left(shapeError(`view '${spec.name}' gives a prediction of shape [${shape.join(',')}] but earlier views gave [${merged.join(',')}]`))
    }
    const added = acc.add(data)
    if (E.isLeft(added)) return added
    input.onView?.(acc.count(), input.specs.length)
  }
  if (acc === undefined) return E.left(shapeError('the transform product has no views'))
  return E.Functor.map(acc.result(), (data) => ({ shape: merged, data }))
}
