/**
 * The detection search's laws on random scenes (its score never falls step to step and never ends
 * below the single pass; a one-view policy is that view's own boxes) and its typed errors.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { policyError } from '../../src/errors.js'
import { applyDetectionPolicy, boxes, decodeDetectionPolicy, detectionPolicyFromSearch, searchDetectionPolicy, type DetectionScore, type MapMerges } from '../../src/index.js'

type Detections = boxes.Detections

/** F1 at IoU ≥ 0.5 against one truth box per image, greedy. */
const iou = (a: boxes.Box, b: boxes.Box): number => {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0])
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1])
  if (w <= 0 || h <= 0) return 0
  const area = (r: boxes.Box): number => (r[2] - r[0]) * (r[3] - r[1])
  return (w * h) / (area(a) + area(b) - w * h)
}
const scorer = (truth: readonly boxes.Box[]): DetectionScore => (answers) => {
  let tp = 0
  let fp = 0
  let fn = 0
  const perImage = answers.map((a, i) => {
    const t = truth[i]
    const hit = t !== undefined && a.boxes.some((b) => iou(b, t) >= 0.5) ? 1 : 0
    tp += hit
    fp += a.boxes.length - hit
    fn += 1 - hit
    return hit / Math.max(1, a.boxes.length)
  })
  return { value: tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn), perImage }
}

const scene = fc.integer({ min: 2, max: 8 }).chain((images) => fc.record({
  truth: fc.array(fc.tuple(fc.integer({ min: 0, max: 60 }), fc.integer({ min: 0, max: 60 })).map(([x, y]): boxes.Box => [x, y, x + 30, y + 20]), { minLength: images, maxLength: images }),
  views: fc.array(fc.array(fc.record({ dx: fc.integer({ min: -12, max: 12 }), keep: fc.boolean(), extra: fc.boolean(), score: fc.double({ min: 0.3, max: 1, noNaN: true }) }), { minLength: images, maxLength: images }), { minLength: 1, maxLength: 5 }),
  budget: fc.integer({ min: 1, max: 4 }),
}))

const build = (truth: readonly boxes.Box[], views: readonly (readonly { dx: number; keep: boolean; extra: boolean; score: number }[])[]): Detections[][] =>
  views.map((perImage) => perImage.map((v, i) => {
    const t = truth[i] ?? [0, 0, 1, 1]
    const found: boxes.Box[] = [...(v.keep ? [[t[0] + v.dx, t[1], t[2] + v.dx, t[3]] as const] : []), ...(v.extra ? [[60, 70, 90, 90] as const] : [])]
    return { boxes: found, scores: found.map(() => v.score), labels: found.map(() => 0) }
  }))

describe('detection search laws', () => {
  it('the score never falls step to step, never ends below the single pass, and stays within the budget (200 scenes)', () => {
    let runs = 0
    fc.assert(fc.property(scene, ({ truth, views, budget }) => {
      runs++
      const result = searchDetectionPolicy(build(truth, views), truth.map(() => [100, 100] as const), scorer(truth), { budget: { views: budget } })
      expect(E.isRight(result)).toBe(true)
      if (E.isLeft(result)) return
      const { steps, baseline, chosen } = result.right
      if (steps.length > 1) expect(steps[1]?.score ?? 0).toBeGreaterThanOrEqual(baseline.score)
      for (let k = 2; k < steps.length; k++) expect(steps[k]?.score ?? 0).toBeGreaterThan(steps[k - 1]?.score ?? 1)
      expect(chosen.score).toBeGreaterThanOrEqual(baseline.score)
      expect(result.right.views.length).toBeLessThanOrEqual(budget)
    }), { numRuns: 200 })
    expect(runs).toBeGreaterThanOrEqual(200)
  })

  it('with map merges among the candidates the laws still hold, and a map merge that scores best is what the policy file says (200 scenes)', () => {
    let runs = 0
    let chosenMaps = 0
    fc.assert(fc.property(scene, fc.boolean(), ({ truth, views, budget }, meanFinds) => {
      runs++
      const built = build(truth, views)
      // A stand-in for merged maps: "mean" finds every truth box exactly when meanFinds; "max" keeps all boxes of all views.
      const maps: MapMerges = {
        merges: ['mean', 'max'],
        answer: (set, merge, i) => {
          const t = truth[i] ?? [0, 0, 1, 1]
          if (merge === 'mean') return E.right(meanFinds ? { boxes: [t], scores: [1], labels: [0] } : { boxes: [], scores: [], labels: [] })
          const all = set.flatMap((v) => built[v]?.[i]?.boxes ?? [])
          return E.right({ boxes: all, scores: all.map(() => 0.5), labels: all.map(() => 0) })
        },
      }
      const result = searchDetectionPolicy(built, truth.map(() => [100, 100] as const), scorer(truth), { budget: { views: budget }, maps })
      expect(E.isRight(result)).toBe(true)
      if (E.isLeft(result)) return
      const { steps, baseline, chosen } = result.right
      for (let k = 2; k < steps.length; k++) expect(steps[k]?.score ?? 0).toBeGreaterThan(steps[k - 1]?.score ?? 1)
      expect(chosen.score).toBeGreaterThanOrEqual(baseline.score)
      for (const s of steps) expect(s.fusion !== undefined && s.mapMerge !== undefined).toBe(false)
      const file = detectionPolicyFromSearch(result.right, built.map(() => []), { items: truth.length, budget, command: 'test' })
      const decoded = decodeDetectionPolicy(JSON.parse(JSON.stringify(file)))
      expect(E.isRight(decoded)).toBe(true)
      if (result.right.views.length > 1 && result.right.mapMerge !== undefined) {
        chosenMaps++
        expect(E.isRight(decoded) && decoded.right.mapMerge).toBe(result.right.mapMerge)
        expect(E.isRight(decoded) && decoded.right.fusion).toBe(undefined)
      }
      // When "mean" finds every box and the budget allows two views, the search must reach F1 = 1.
      if (meanFinds && budget >= 2 && views.length >= 2) expect(chosen.score).toBe(1)
    }), { numRuns: 200 })
    expect(runs).toBeGreaterThanOrEqual(200)
    expect(chosenMaps).toBeGreaterThan(0)
  })

  it('a one-view policy is the view\'s own boxes; several are fused like boxes.fuse in normalised coordinates', () => {
    const a: Detections = { boxes: [[10, 20, 50, 40]], scores: [0.9], labels: [0] }
    const b: Detections = { boxes: [[14, 20, 54, 40]], scores: [0.6], labels: [0] }
    expect(applyDetectionPolicy([a], 200, 100, { method: 'wbf' })).toEqual(E.right(a))
    const fused = applyDetectionPolicy([a, b], 200, 100, { method: 'wbf' })
    const norm = (d: Detections): Detections => ({ ...d, boxes: d.boxes.map(([x1, y1, x2, y2]) => [x1 / 200, y1 / 100, x2 / 200, y2 / 100] as const) })
    const direct = boxes.fuse([norm(a), norm(b)], { method: 'wbf' })
    expect(E.isRight(fused) && E.isRight(direct)).toBe(true)
    if (E.isRight(fused) && E.isRight(direct)) {
      expect(fused.right.boxes.length).toBe(1)
      fused.right.boxes[0]?.forEach((x, k) => expect(x).toBeCloseTo((direct.right.boxes[0]?.[k] ?? 0) * (k % 2 === 0 ? 200 : 100), 9))
    }
  })

  it('typed errors: a budget of 0, candidates of another length, a corrupt or newer policy file', () => {
    const truth: boxes.Box[] = [[0, 0, 30, 20]]
    const views = build(truth, [[{ dx: 0, keep: true, extra: false, score: 0.9 }]])
    const zero = searchDetectionPolicy(views, [[100, 100]], scorer(truth), { budget: { views: 0 } })
    expect(E.isLeft(zero) && zero.left._tag === 'PolicyError' && zero.left.problem).toBe('budget')
    const ragged = searchDetectionPolicy([...views, []], [[100, 100]], scorer(truth), { budget: { views: 2 } })
    expect(E.isLeft(ragged) && ragged.left.message).toMatch(/candidate 1 has detections for 0 images, not 1/)
    expect(E.isLeft(decodeDetectionPolicy({ format: 'tta-lens-detection-policy', version: 1, views: [{ name: 'a', ops: [] }, { name: 'b', ops: [{ op: 'hflip' }] }] }))).toBe(true)
    // A map merge that fails on an image (a candidate that fails on some images) stops the search with its error.
    const two = build(truth, [[{ dx: 0, keep: true, extra: false, score: 0.9 }], [{ dx: 2, keep: true, extra: false, score: 0.8 }]])
    const failing: MapMerges = { merges: ['mean'], answer: (_set, _merge, i) => E.left(policyError('candidate', `no map for image ${i}`)) }
    const stopped = searchDetectionPolicy(two, [[100, 100]], scorer(truth), { budget: { views: 2 }, maps: failing })
    expect(E.isLeft(stopped) && stopped.left._tag === 'PolicyError' && stopped.left.problem).toBe('candidate')
    expect(E.isLeft(stopped) && stopped.left.message).toBe('no map for image 0')
    const both = decodeDetectionPolicy({ format: 'tta-lens-detection-policy', version: 1, views: [{ name: 'a', ops: [] }, { name: 'b', ops: [{ op: 'hflip' }] }], fusion: { method: 'wbf' }, mapMerge: 'mean' })
    expect(E.isLeft(both) && both.left.message).toMatch(/not both/)
    expect(E.isLeft(decodeDetectionPolicy({ format: 'tta-lens-detection-policy', version: 1, views: [{ name: 'a', ops: [] }, { name: 'b', ops: [{ op: 'hflip' }] }], mapMerge: 'median' }))).toBe(true)
    const newer = decodeDetectionPolicy({ format: 'tta-lens-detection-policy', version: 2, views: [] })
    expect(E.isLeft(newer) && newer.left.problem).toBe('version')
    const found = searchDetectionPolicy(views, [[100, 100]], scorer(truth), { budget: { views: 1 } })
    expect(E.isRight(found)).toBe(true)
    if (E.isRight(found)) {
      const file = detectionPolicyFromSearch(found.right, [[]], { items: 1, budget: 1, command: 'test' })
      expect(E.isRight(decodeDetectionPolicy(JSON.parse(JSON.stringify(file))))).toBe(true)
    }
  })
})
