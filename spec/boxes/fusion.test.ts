/**
 * `fuse`: hand-computed answers of each method, and the bad-input rules (docs/boxes.md): typed
 * errors for bad options and bad detections (also from untyped callers), clipping and dropping for
 * normalised boxes that leave the frame, and empty answers for empty input.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { boxes, type TtaError } from '../../src/index.js'

type Detections = boxes.Detections
const view = (list: readonly (readonly [number, number, number, number, number, number])[]): Detections => ({
  boxes: list.map(([x1, y1, x2, y2]) => [x1, y1, x2, y2]),
  scores: list.map((r) => r[4]),
  labels: list.map((r) => r[5]),
})
const ok = (r: E.Either<TtaError, Detections>): Detections => {
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}
const error = (r: E.Either<TtaError, Detections>): TtaError => {
  if (E.isRight(r)) throw new Error(`expected an error, got ${JSON.stringify(r.right)}`)
  return r.left
}
/** Untyped callers (plain JavaScript, JSON) reach `fuse` with anything. */
const fuseUntyped = (views: unknown, options: unknown): E.Either<TtaError, Detections> => Reflect.apply(boxes.fuse, undefined, [views, options])

// Two views of one object (class 0) and a second object (class 1) seen once.
const a = view([[0.1, 0.1, 0.5, 0.5, 0.9, 0], [0.6, 0.6, 0.9, 0.9, 0.4, 1]])
const b = view([[0.12, 0.1, 0.52, 0.5, 0.6, 0]])
const iouAB = (0.38 * 0.4) / (0.16 + 0.16 - 0.38 * 0.4)

describe('fuse: hand-computed', () => {
  it('nms keeps the best box of each overlapping group, classes ascending', () => {
    expect(ok(boxes.fuse([a, b], { method: 'nms' }))).toEqual(view([[0.1, 0.1, 0.5, 0.5, 0.9, 0], [0.6, 0.6, 0.9, 0.9, 0.4, 1]]))
    // Above the IoU of the two boxes nothing is suppressed.
    expect(ok(boxes.fuse([a, b], { method: 'nms', iouThreshold: 0.95 })).scores).toEqual([0.9, 0.6, 0.4])
    // With weights every score becomes s·w/Σw.
    expect(ok(boxes.fuse([a, b], { method: 'nms', weights: [1, 3] })).scores).toEqual([(0.6 * 3) / 4, (0.4 * 1) / 4]) // b's box now outranks a's
  })

  it('soft-nms decays instead of dropping: linear by 1 − IoU above the threshold, gaussian by exp(−IoU²/σ)', () => {
    const linear = ok(boxes.fuse([a, b], { method: 'soft-nms', kernel: 'linear', iouThreshold: 0.5 }))
    expect(linear.labels).toEqual([0, 0, 1])
    expect(linear.scores[0]).toBe(0.9)
    expect(linear.scores[1]).toBeCloseTo(0.6 * (1 - iouAB), 15)
    const gaussian = ok(boxes.fuse([a, b], { method: 'soft-nms', sigma: 0.5 }))
    expect(gaussian.scores[1]).toBeCloseTo(0.6 * Math.exp(-(iouAB * iouAB) / 0.5), 15)
    // ensemble-boxes returns the undecayed scores; `scores: 'original'` does too.
    expect(ok(boxes.fuse([a, b], { method: 'soft-nms', scores: 'original' })).scores).toEqual([0.9, 0.6, 0.4])
    // The threshold applies to the decayed score.
    expect(ok(boxes.fuse([a, b], { method: 'soft-nms', kernel: 'linear', scoreThreshold: 0.1 })).scores).toEqual([0.9, 0.4])
  })

  it('nmw: the top box\'s score, boxes averaged by score × IoU with it', () => {
    const r = ok(boxes.fuse([a, b], { method: 'nmw' }))
    const w = 0.6 * iouAB
    expect(r.scores).toEqual([0.9, 0.4])
    expect(r.boxes[0]?.[0]).toBeCloseTo((0.9 * 0.1 + w * 0.12) / (0.9 + w), 15)
  })

  it('wbf: score-weighted mean boxes, and each confidence rule', () => {
    const fused = (confidence: boxes.ConfidenceRule, weights?: readonly number[], allowsOverflow = false): Detections =>
      ok(boxes.fuse([a, b], { method: 'wbf', confidence, allowsOverflow, ...(weights === undefined ? {} : { weights }) }))
    const avg = fused('avg')
    expect(avg.boxes[0]?.[0]).toBeCloseTo((0.9 * 0.1 + 0.6 * 0.12) / 1.5, 15)
    expect(avg.scores[0]).toBeCloseTo(0.75, 15)
    expect(avg.scores[1]).toBeCloseTo(0.2, 15) // one box of two views
    // weights 2 and 1: weighted scores 1.8 and 0.6
    expect(fused('avg', [2, 1]).scores[0]).toBeCloseTo(((1.8 + 0.6) / 2) * 2 / 3, 15)
    expect(fused('max', [2, 1]).scores[0]).toBeCloseTo(1.8 / 2, 15)
    expect(fused('box_and_model_avg', [2, 1]).scores[0]).toBeCloseTo((2.4 / 3) * 3 / 3, 15)
    expect(fused('box_and_model_avg', [2, 1]).scores[1]).toBeCloseTo((0.8 / 2) * 2 / 3, 15)
    expect(fused('absent_model_aware_avg', [2, 1]).scores[1]).toBeCloseTo(0.8 / (2 + 1), 15)
    // overflow: n boxes of one view in one cluster may push the score above 1
    const twice = view([[0.1, 0.1, 0.5, 0.5, 0.9, 0], [0.1, 0.1, 0.5, 0.52, 0.9, 0]])
    expect(ok(boxes.fuse([twice], { method: 'wbf', allowsOverflow: true })).scores[0]).toBeCloseTo(1.8, 15)
    expect(ok(boxes.fuse([twice], { method: 'wbf' })).scores[0]).toBeCloseTo(0.9, 15)
  })

  it('a cluster whose weighted scores are all 0 gets the plain mean box (ensemble-boxes: NaN)', () => {
    const zero = [view([[0.1, 0.1, 0.5, 0.5, 0, 0]]), view([[0.1, 0.1, 0.5, 0.7, 0, 0]])]
    const r = ok(boxes.fuse(zero, { method: 'wbf', iouThreshold: 0.5 }))
    expect(r.boxes).toEqual([[0.1, 0.1, 0.5, 0.6]])
    expect(r.scores).toEqual([0])
    expect(ok(boxes.fuse(zero, { method: 'wbf', iouThreshold: 0.5, confidence: 'box_and_model_avg', weights: [0, 1] })).scores.every(Number.isFinite)).toBe(true)
    const n = ok(boxes.fuse(zero, { method: 'nmw', iouThreshold: 0.5 }))
    expect(n.boxes[0]?.every(Number.isFinite)).toBe(true)
  })

  it('tiny (subnormal) scores still average the boxes (found by the wbf-copies law: s·c underflows)', () => {
    const tiny = view([[0.6044921875, 0.0078125, 0.638671875, 0.0458984375, 5e-323, 0]])
    const w = ok(boxes.fuse([tiny, tiny, tiny, tiny, tiny], { method: 'wbf' }))
    expect(w.boxes).toEqual(tiny.boxes)
    const n = ok(boxes.fuse([tiny, tiny, tiny], { method: 'nmw' }))
    expect(n.boxes).toEqual(tiny.boxes)
  })

  it('skipThreshold drops boxes whose score before weighting is below it (equal is kept)', () => {
    expect(ok(boxes.fuse([a, b], { method: 'wbf', skipThreshold: 0.6 })).scores).toEqual([0.75])
    expect(ok(boxes.fuse([a, b], { method: 'nmw', skipThreshold: 0.61, weights: [1, 9] })).scores).toEqual([0.9 * (1 / 9)])
  })
})

describe('fuse: normalised coordinates', () => {
  it('clips boxes that stick out of [0, 1] and drops those left with zero area', () => {
    const out = view([[-0.2, 0.5, 0.3, 1.4, 0.8, 0], [1.1, 0.2, 1.6, 0.4, 0.9, 0], [0.3, 0.3, 0.3, 0.5, 0.7, 1]])
    for (const method of boxes.fusionMethods) {
      const r = ok(boxes.fuse([out], { method }))
      expect(r.boxes, method).toEqual([[0, 0.5, 0.3, 1]])
    }
  })
  it('a coordinate beyond [−1, 2] is a BoxError that says to normalise', () => {
    const pixels = view([[12, 30, 220, 180, 0.9, 0]])
    const e = error(boxes.fuse([a, pixels], { method: 'wbf' }))
    expect(e._tag).toBe('BoxError')
    expect(e.message).toMatch(/^view 1: box 0 has x1 = 12; fusion takes normalised coordinates/)
    expect(error(boxes.fuse([view([[-1.5, 0, 0.5, 0.5, 0.9, 0]])], { method: 'nms' })).message).toMatch(/x1 = -1.5/)
    expect(ok(boxes.fuse([view([[-1, 0, 2, 0.5, 0.9, 0]])], { method: 'nms' })).boxes).toEqual([[0, 0, 1, 0.5]])
  })
})

describe('fuse: empty input is a valid answer', () => {
  for (const method of boxes.fusionMethods) {
    it(`${method}: no views, empty views, every box dropped`, () => {
      expect(ok(boxes.fuse([], { method }))).toEqual(boxes.empty)
      expect(ok(boxes.fuse([boxes.empty, boxes.empty], { method }))).toEqual(boxes.empty)
      expect(ok(boxes.fuse([boxes.empty, view([[0.2, 0.2, 0.2, 0.6, 0.9, 0]])], { method }))).toEqual(boxes.empty)
      expect(ok(boxes.fuse([boxes.empty, a], { method })).boxes.length).toBeGreaterThan(0)
    })
  }
})

describe('fuse: bad input is a typed error', () => {
  const cases: readonly (readonly [string, unknown, unknown, 'ParamError' | 'BoxError', RegExp])[] = [
    ['unknown method', [a], { method: 'median' }, 'ParamError', /fusion option 'method' must be one of 'nms', 'soft-nms', 'nmw', 'wbf', got 'median'/],
    ['options not an object', [a], 'wbf', 'ParamError', /fusion options must be an object/],
    ['a key of another method', [a], { method: 'nms', sigma: 0.5 }, 'ParamError', /unknown fusion option 'sigma' for method 'nms' \(allowed: method, iouThreshold, weights\)/],
    ['ensemble-boxes spelling', [a], { method: 'wbf', iou_thr: 0.5, conf_type: 'max' }, 'ParamError', /unknown fusion options 'iou_thr', 'conf_type'/],
    ['IoU threshold above 1', [a], { method: 'wbf', iouThreshold: 1.5 }, 'ParamError', /iouThreshold must be a number in \[0, 1\], got 1.5/],
    ['NaN threshold', [a], { method: 'nmw', skipThreshold: Number.NaN }, 'ParamError', /skipThreshold must be a number in \[0, 1\], got NaN/],
    ['negative sigma', [a], { method: 'soft-nms', sigma: -1 }, 'ParamError', /sigma must be a finite number > 0, got -1/],
    ['unknown kernel', [a], { method: 'soft-nms', kernel: 'box' }, 'ParamError', /kernel must be one of 'linear', 'gaussian', got 'box'/],
    ['unknown confidence rule', [a], { method: 'wbf', confidence: 'median' }, 'ParamError', /confidence must be one of 'avg', 'max'/],
    ['overflow not a boolean', [a], { method: 'wbf', allowsOverflow: 'yes' }, 'ParamError', /allowsOverflow must be true or false, got 'yes'/],
    ['weights of the wrong count', [a, b], { method: 'wbf', weights: [1, 2, 3] }, 'ParamError', /weights has 3 entries for 2 views/],
    ['a negative weight', [a, b], { method: 'nms', weights: [1, -1] }, 'ParamError', /weights must be finite numbers ≥ 0; weight 1 is -1/],
    ['an infinite weight', [a, b], { method: 'nmw', weights: [1, Number.POSITIVE_INFINITY] }, 'ParamError', /weight 1 is Infinity/],
    ['all weights 0', [a, b], { method: 'wbf', weights: [0, 0] }, 'ParamError', /weights must not all be 0/],
    ['views not a list', { boxes: [] }, { method: 'wbf' }, 'BoxError', /fuse takes a list with the detections of each view/],
    ['views null', null, { method: 'nms' }, 'BoxError', /got null/],
    ['a view without labels', [{ boxes: [], scores: [] }], { method: 'nms' }, 'BoxError', /view 0: .*`labels` is missing/],
    ['lists of different lengths', [a, { boxes: [[0, 0, 1, 1]], scores: [0.5, 0.2], labels: [0] }], { method: 'wbf' }, 'BoxError', /view 1: 1 boxes, 2 scores and 1 labels/],
    ['NaN corner', [{ boxes: [[0, Number.NaN, 1, 1]], scores: [0.5], labels: [0] }], { method: 'wbf' }, 'BoxError', /view 0: box 0 has y1 = NaN/],
    ['x2 < x1', [{ boxes: [[0.5, 0, 0.2, 1]], scores: [0.5], labels: [0] }], { method: 'nmw' }, 'BoxError', /x2 = 0.2 < x1 = 0.5/],
    ['score above 1', [{ boxes: [[0, 0, 1, 1]], scores: [1.5], labels: [0] }], { method: 'soft-nms' }, 'BoxError', /score 1.5; scores must be within \[0, 1\]/],
    ['label not an integer', [{ boxes: [[0, 0, 1, 1]], scores: [0.5], labels: [1.5] }], { method: 'wbf' }, 'BoxError', /label 1.5; labels must be non-negative integers/],
    ['box of 3 numbers', [{ boxes: [[0, 0, 1]], scores: [0.5], labels: [0] }], { method: 'wbf' }, 'BoxError', /box 0 must be \[x1, y1, x2, y2\]/],
  ]
  it.each(cases)('%s', (_, views, options, tag, message) => {
    const e = error(fuseUntyped(views, options))
    expect(e._tag).toBe(tag)
    expect(e.message).toMatch(message)
  })

  it('never throws on junk', () => {
    const junk: readonly unknown[] = [undefined, 0, 'x', [], {}, [null], [[1, 2]], { method: null }, [{ boxes: 'abc', scores: [], labels: [] }]]
    for (const v of junk) for (const o of junk) expect(() => fuseUntyped(v, o)).not.toThrow()
  })

  it('never throws on values JSON cannot show (a bigint, a cycle, a throwing toJSON): each is a typed error', () => {
    const cycle: Record<string, unknown> = {}
    cycle['self'] = cycle
    const unshowable: readonly unknown[] = [1n, cycle, { toJSON: () => { throw new Error('no') } }, Object.create(null)]
    for (const bad of unshowable) {
      expect(error(fuseUntyped([{ boxes: [[0, 0, 1, 1]], scores: [0.5], labels: [bad] }], { method: 'wbf' }))._tag).toBe('BoxError')
      expect(error(fuseUntyped([{ boxes: [[0, 0, 1, 1]], scores: [bad], labels: [0] }], { method: 'nms' }))._tag).toBe('BoxError')
      expect(error(fuseUntyped([{ boxes: [bad], scores: [0.5], labels: [0] }], { method: 'nmw' }))._tag).toBe('BoxError')
      expect(error(fuseUntyped([a], { method: 'soft-nms', sigma: bad }))._tag).toBe('ParamError')
    }
    expect(error(fuseUntyped([{ boxes: [[0, 0, 1, 1]], scores: [0.5], labels: [1n] }], { method: 'wbf' })).message).toMatch(/box 0 has label bigint 1n/)
  })

  it('fuses the numbers it checked: a view whose lists change between reads gives no unchecked box', () => {
    let reads = 0
    // Valid on the first read, NaN corners on every later one.
    const view = { get boxes() { return reads++ === 0 ? [[0.1, 0.1, 0.5, 0.5]] : [[Number.NaN, 0, 1, 1]] }, scores: [0.9], labels: [0] }
    for (const method of boxes.fusionMethods) {
      reads = 0
      const fused = fuseUntyped([view], { method })
      if (E.isRight(fused)) expect(fused.right.boxes.flat().every(Number.isFinite), method).toBe(true)
      else expect(fused.left._tag, method).toBe('BoxError')
    }
  })
})

describe('parseFusionOptions', () => {
  it('takes every option, leaving undefined ones out', () => {
    expect(boxes.parseFusionOptions({ method: 'soft-nms', kernel: 'linear', iouThreshold: 0.3, sigma: 0.2, scoreThreshold: 0.01, weights: [1, 2], scores: 'original' }))
      .toEqual(E.right({ method: 'soft-nms', kernel: 'linear', iouThreshold: 0.3, sigma: 0.2, scoreThreshold: 0.01, weights: [1, 2], scores: 'original' }))
    expect(boxes.parseFusionOptions({ method: 'wbf', iouThreshold: undefined })).toEqual(E.right({ method: 'wbf' }))
    expect(boxes.FusionOptionsCodec.is({ method: 'nmw', iouThreshold: 0.2 })).toBe(true)
    expect(boxes.FusionOptionsCodec.is({ method: 'nmw', iouThreshold: 2 })).toBe(false)
  })
  it('the defaults are ensemble-boxes\' own', () => {
    // nms(iou_thr=0.5): a pair at IoU 0.6 is suppressed, at 0.4 both are kept.
    const pair = (iou: number): Detections => {
      // two unit-height boxes of width 1 offset by d: IoU = (1 − d) / (1 + d)
      const d = (1 - iou) / (1 + iou)
      return view([[0, 0, 0.5, 0.5, 0.9, 0], [d * 0.5, 0, 0.5 + d * 0.5, 0.5, 0.8, 0]])
    }
    expect(ok(boxes.fuse([pair(0.6)], { method: 'nms' })).scores).toEqual([0.9])
    expect(ok(boxes.fuse([pair(0.4)], { method: 'nms' })).scores).toEqual([0.9, 0.8])
    // wbf / nmw: iou_thr 0.55
    expect(ok(boxes.fuse([pair(0.56)], { method: 'wbf' })).scores.length).toBe(1)
    expect(ok(boxes.fuse([pair(0.54)], { method: 'wbf' })).scores.length).toBe(2)
    expect(ok(boxes.fuse([pair(0.56)], { method: 'nmw' })).scores.length).toBe(1)
    expect(ok(boxes.fuse([pair(0.54)], { method: 'nmw' })).scores.length).toBe(2)
    // soft-nms: gaussian with sigma 0.5
    const s = ok(boxes.fuse([pair(0.6)], { method: 'soft-nms' })).scores[1] ?? 0
    expect(s / 0.8).toBeCloseTo(Math.exp(-(0.6 * 0.6) / 0.5), 12)
  })
})
