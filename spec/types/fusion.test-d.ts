/**
 * Box fusion's options and inputs at compile time: a key of another method, an unknown method,
 * kernel or confidence rule, and a box that is not four numbers do not compile.
 */
import { describe, expectTypeOf, test } from 'vitest'
import type * as E from 'fp-ts/lib/Either.js'
import { boxes, type ParamError, type TtaError } from '../../src/index.js'

declare const views: readonly boxes.Detections[]

describe('fusion options', () => {
  test('each method takes its own keys', () => {
    boxes.fuse(views, { method: 'nms', iouThreshold: 0.5, weights: [1, 2] })
    boxes.fuse(views, { method: 'soft-nms', kernel: 'linear', sigma: 0.5, scoreThreshold: 0.01, scores: 'original' })
    boxes.fuse(views, { method: 'wbf', confidence: 'absent_model_aware_avg', allowsOverflow: true, skipThreshold: 0.1 })
    // @ts-expect-error "'sigma' does not exist in type"
    boxes.fuse(views, { method: 'nms', sigma: 0.5 })
    // @ts-expect-error "'confidence' does not exist in type"
    boxes.fuse(views, { method: 'nmw', confidence: 'max' })
    // @ts-expect-error "'iou_thr' does not exist in type"
    boxes.fuse(views, { method: 'wbf', iou_thr: 0.5 })
  })

  test('unknown names do not compile', () => {
    // @ts-expect-error "Type '\"median\"' is not assignable to type '\"nms\" | \"soft-nms\" | \"nmw\" | \"wbf\"'"
    boxes.fuse(views, { method: 'median' })
    // @ts-expect-error "Type '\"box\"' is not assignable to type '\"linear\" | \"gaussian\" | undefined'"
    boxes.fuse(views, { method: 'soft-nms', kernel: 'box' })
    // @ts-expect-error "Type '\"median\"' is not assignable to type 'ConfidenceRule | undefined'"
    boxes.fuse(views, { method: 'wbf', confidence: 'median' })
  })

  test('a box is four numbers; scores and labels are numbers', () => {
    boxes.fuse([{ boxes: [[0, 0, 1, 1]], scores: [0.5], labels: [0] }], { method: 'nms' })
    // @ts-expect-error "Source has 3 element(s) but target requires 4"
    boxes.fuse([{ boxes: [[0, 0, 1]], scores: [0.5], labels: [0] }], { method: 'nms' })
    // @ts-expect-error "Type 'string' is not assignable to type 'number'"
    boxes.fuse([{ boxes: [[0, 0, 1, 1]], scores: ['0.5'], labels: [0] }], { method: 'nms' })
  })

  test('the answer is an Either of a TtaError and detections', () => {
    expectTypeOf(boxes.fuse(views, { method: 'wbf' })).toEqualTypeOf<E.Either<TtaError, boxes.Detections>>()
    expectTypeOf(boxes.parseFusionOptions({})).toEqualTypeOf<E.Either<ParamError, boxes.FusionOptions>>()
  })
})
