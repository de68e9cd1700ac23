// boxes.fuseInFrame and the minimum fused score: the wrapper's last step as a function of cached
// per-view detections must give exactly what the wrapper returns, for every fusion and threshold.
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aliases, boxes, buildPlan, explain, orThrow, tensor, views, wrap, type Tensor } from '../../src/index.js'

type Box4 = readonly [number, number, number, number]

/** A "detector" that hands out the listed detections in turn, one per image it is shown (in view pixels). */
const dealer = (list: readonly boxes.Detections[]) => {
  let k = 0
  return async (x: Tensor<readonly ['N', 1, 'H', 'W']>): Promise<readonly boxes.Detections[]> =>
    Array.from({ length: x.shape[0] }, () => list[k++ % list.length] ?? boxes.empty)
}

const boxIn = (h: number, w: number): fc.Arbitrary<Box4> =>
  fc.tuple(fc.integer({ min: 0, max: w - 1 }), fc.integer({ min: 0, max: h - 1 }), fc.integer({ min: 1, max: w }), fc.integer({ min: 1, max: h }))
    .map(([x, y, bw, bh]): Box4 => [x, y, Math.min(w, x + bw), Math.min(h, y + bh)])

const detectionsIn = (h: number, w: number): fc.Arbitrary<boxes.Detections> =>
  fc.array(fc.tuple(boxIn(h, w), fc.double({ min: 0.05, max: 1, noNaN: true }), fc.integer({ min: 0, max: 2 })), { maxLength: 6 })
    .map((rows) => ({ boxes: rows.map((r) => r[0]), scores: rows.map((r) => r[1]), labels: rows.map((r) => r[2]) }))

const fusionArb: fc.Arbitrary<boxes.FusionOptions> = fc.oneof(
  fc.record({ method: fc.constant('nms' as const), iouThreshold: fc.double({ min: 0.1, max: 0.9, noNaN: true }) }),
  fc.record({ method: fc.constant('soft-nms' as const), kernel: fc.constantFrom('linear' as const, 'gaussian' as const) }),
  fc.record({ method: fc.constant('nmw' as const), iouThreshold: fc.double({ min: 0.1, max: 0.9, noNaN: true }) }),
  fc.record({ method: fc.constant('wbf' as const), iouThreshold: fc.double({ min: 0.1, max: 0.9, noNaN: true }), confidence: fc.constantFrom(...boxes.confidenceRules) }),
)

describe('boxes.fuseInFrame', () => {
  it('gives what wrap.detection returns, from the views it keeps (every fusion, every minimum score; 200 runs)', async () => {
    const image = orThrow(tensor([1, 1, 6, 10], new Float32Array(60)))
    await fc.assert(fc.asyncProperty(fc.array(detectionsIn(10, 10), { minLength: 1, maxLength: 8 }), fusionArb, fc.double({ min: 0, max: 1, noNaN: true }), async (list, fusion, minScore) => {
      const tta = wrap.detection(dealer(list), aliases.d4(), { fusion, minScore, keepViews: true })
      const result = await tta.run(image)()
      if (E.isLeft(result)) throw new Error(result.left.message)
      const [first] = result.right
      if (first === undefined) throw new Error('no result')
      const again = boxes.fuseInFrame(first.views.map((v) => v.detections), { height: 6, width: 10 }, { fusion, minScore })
      expect(again).toEqual(E.right({ boxes: first.boxes, scores: first.scores, labels: first.labels }))
      // and, computed here on its own: fractions of the frame through `fuse`, back to pixels, cut at minScore
      const scale = (d: boxes.Detections, sx: number, sy: number): boxes.Detections => ({ ...d, boxes: d.boxes.map(([a, b, c, e]): Box4 => [a * sx, b * sy, c * sx, e * sy]) })
      const fused = orThrow(boxes.fuse(first.views.map((v) => scale(v.detections, 1 / 10, 1 / 6)), fusion))
      const keep = fused.scores.flatMap((s, i) => (s >= minScore ? [i] : []))
      const back = scale(fused, 10, 6)
      expect(first.boxes).toEqual(keep.map((i) => back.boxes[i]))
      expect(first.scores).toEqual(keep.map((i) => fused.scores[i]))
      expect(first.scores.every((s) => s >= minScore)).toBe(true)
    }), { numRuns: 200 })
  })

  it('minScore keeps exactly the fused boxes scoring at least it, in order', () => {
    const views = [
      { boxes: [[0, 0, 10, 10], [50, 50, 60, 60]] as const, scores: [0.9, 0.8], labels: [0, 0] },
      { boxes: [[1, 0, 11, 10]] as const, scores: [0.7], labels: [0] },
    ]
    const all = orThrow(boxes.fuseInFrame(views, { height: 100, width: 100 }, { fusion: { method: 'wbf' } }))
    expect(all.scores.map((s) => Math.round(s * 1e9) / 1e9)).toEqual([0.8, 0.4])  // the lone box: 0.8 · 1 of 2 views
    const kept = orThrow(boxes.fuseInFrame(views, { height: 100, width: 100 }, { fusion: { method: 'wbf' }, minScore: 0.5 }))
    expect(kept.boxes).toEqual(all.boxes.slice(0, 1))
    expect(boxes.keepScoring(all, 0)).toBe(all)
  })

  it('normalised frames fuse as fuse does; pixel frames scale there and back', () => {
    const views = [{ boxes: [[0.1, 0.2, 0.5, 0.6]] as const, scores: [0.9], labels: [1] }]
    expect(boxes.fuseInFrame(views, { height: 50, width: 80, coordinates: 'normalized' }, { fusion: { method: 'nms' } })).toEqual(boxes.fuse(views, { method: 'nms' }))
    const pixels = orThrow(boxes.fuseInFrame([{ boxes: [[8, 10, 40, 30]], scores: [0.9], labels: [1] }], { height: 50, width: 80 }, { fusion: { method: 'nms' } }))
    expect(pixels.boxes[0]?.map((v) => Math.round(v * 1e9) / 1e9)).toEqual([8, 10, 40, 30])
  })

  it('refuses a bad frame, a bad minimum score and bad detections with typed errors', () => {
    const one = [{ boxes: [[0, 0, 1, 1]] as const, scores: [0.5], labels: [0] }]
    const bad = (r: E.Either<{ readonly _tag: string; readonly message: string }, unknown>) => (E.isLeft(r) ? `${r.left._tag}: ${r.left.message}` : 'Right')
    expect(bad(boxes.fuseInFrame(one, { height: 0, width: 5 }))).toBe('ParamError: the frame must have a positive height and width, got 0×5')
    expect(bad(boxes.fuseInFrame(one, { height: 5, width: 5 }, { minScore: 2 }))).toBe('ParamError: minScore must be a number in [0, 1] (fused boxes scoring below it are dropped), got 2')
    expect(bad(boxes.fuseInFrame([{ boxes: [[3, 0, 1, 1]], scores: [0.5], labels: [0] }], { height: 5, width: 5 }))).toMatch(/^BoxError: view 0: box 0 has x2 = 1 < x1 = 3/)
    expect(bad(boxes.fuseInFrame([{ boxes: [[0, 0, 12, 1]], scores: [0.5], labels: [0] }], { height: 5, width: 5 }))).toBe('BoxError: view 0: box 0 [0, 0, 12, 1] lies more than a whole frame outside the 5×5 image')
    // what plain JavaScript may pass
    const untyped = (...args: readonly unknown[]): E.Either<{ readonly _tag: string; readonly message: string }, unknown> => Reflect.apply(boxes.fuseInFrame, undefined, args)
    expect(bad(untyped(one, { height: 5, width: 5, coordinates: 'inches' }))).toBe("ParamError: coordinates must be 'pixels' or 'normalized', got \"inches\"")
    expect(bad(untyped('nope', { height: 5, width: 5 }))).toMatch(/^BoxError: fuse takes a list/)
    expect(bad(untyped([{ boxes: [[0, 0, 1, Number.NaN]], scores: [0.5], labels: [0] }], { height: 5, width: 5 }))).toMatch(/^BoxError: view 0: box 0 has y2 = NaN/)
  })
})

describe('minScore in the detection wrapper and its plan', () => {
  it('is checked by the plan, shown by explain, and refused out of range', () => {
    const plan = orThrow(buildPlan('detection', views(aliases.hflip()), [1, 1, 4, 6], { fusion: { method: 'wbf' }, minScore: 0.3 }))
    expect(plan.boxes?.minScore).toBe(0.3)
    expect(explain(plan)).toContain('fusion wbf · min score 0.3')
    const bad = buildPlan('detection', views(aliases.hflip()), [1, 1, 4, 6], { minScore: -1 })
    expect(E.isLeft(bad) && bad.left.message).toBe('minScore must be a number in [0, 1] (fused boxes scoring below it are dropped), got -1')
  })

  it('from an untyped caller: a wrong type is named by the option decoder', async () => {
    const tta = Reflect.apply(wrap.detection, undefined, [dealer([boxes.empty]), aliases.hflip(), { minScore: 'high' }])
    const r: E.Either<{ readonly message: string }, unknown> = await tta.run(orThrow(tensor([1, 1, 2, 2], new Float32Array(4))))()
    expect(E.isLeft(r) && r.left.message).toMatch(/^options: minScore: expected number/)
  })
})
