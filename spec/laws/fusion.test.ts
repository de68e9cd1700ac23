import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { boxes, laws } from '../../src/index.js'

describe('box fusion laws', () => {
  const report = laws.checkFusion()

  it('checkFusion: order invariance for every method, WBF of n copies for every rule, NMS separation (200 runs each)', () => {
    if (E.isLeft(report)) throw new Error(report.left.message)
    expect(report.right.minRuns).toBeGreaterThanOrEqual(200)
    expect(report.right.laws.map((l) => `${l.law}:${l.view}`)).toEqual([
      ...boxes.fusionMethods.map((m) => `fusion-order:${m}`),
      ...boxes.confidenceRules.map((r) => `wbf-copies:wbf/${r}`),
      'nms-separation:nms',
    ])
    for (const l of report.right.laws) console.log(`fusion law ${l.law} (${l.view}): ${l.numRuns} runs, ${l.applied} applied${l.maxError === undefined ? '' : `, max error ${l.maxError.toExponential(2)}`}`)
  })

  it('the laws are not vacuous: most runs are inside their domain', () => {
    if (E.isLeft(report)) throw new Error(report.left.message)
    for (const l of report.right.laws) expect(l.applied, `${l.law} ${l.view}`).toBeGreaterThanOrEqual(l.law === 'wbf-copies' ? 100 : 180)
  })

  it('the scenes have ties that matter: breaking them by view order would fail the order law', () => {
    // A fusion that favours earlier views among equal scores (as a sort by view index would).
    const byViewOrder = (views: readonly boxes.Detections[], options: boxes.FusionOptions) =>
      boxes.fuse(views.map((v, i) => ({ ...v, scores: v.scores.map((s) => Math.max(0, s - i * 1e-9)) })), options)
    const details = fc.check(fc.property(
      laws.arbitraries.fusionCase({ method: 'nms' }).chain((c) => laws.arbitraries.permutation(c.views.length).map((order) => ({ ...c, order }))),
      ({ views, options, order }) => {
        const a = byViewOrder(views, options)
        const b = byViewOrder(order.map((k) => views[k] ?? boxes.empty), options.weights === undefined ? options : { ...options, weights: order.map((k) => options.weights?.[k] ?? 0) })
        if (E.isLeft(a) || E.isLeft(b)) return false
        const key = (d: boxes.Detections) => JSON.stringify(d.boxes.map((x, i) => [d.labels[i], ...x]).sort())
        return key(a.right) === key(b.right)
      }), { numRuns: 300, seed: 7 })
    expect(details.failed).toBe(true)
  })

  it('WBF of copies states each rule\'s score: s, for any weights', () => {
    const view = { boxes: [[0.1, 0.1, 0.5, 0.5], [-0.2, 0.6, 0.3, 0.9], [0.6, 0.6, 0.9, 0.9]], scores: [0.8, 0.3, 0.05], labels: [0, 0, 1] } as const
    for (const confidence of boxes.confidenceRules) {
      for (const allowsOverflow of [false, true]) {
        const r = laws.wbfOfCopies(view, 4, { method: 'wbf', confidence, allowsOverflow, weights: [0.1, 0, 2, 0.3], skipThreshold: 0.1 })
        expect(r, `${confidence} ${allowsOverflow}`).toMatchObject({ holds: true, applied: true })
      }
    }
    expect(laws.expectedWbfOfCopies(view, 0.1)).toEqual({ boxes: [[0.1, 0.1, 0.5, 0.5], [0, 0.6, 0.3, 0.9]], scores: [0.8, 0.3], labels: [0, 0] })
    // Overlapping boxes of a class fuse with each other: outside the law's domain.
    const overlapping = { boxes: [[0.1, 0.1, 0.5, 0.5], [0.12, 0.1, 0.5, 0.5]], scores: [0.8, 0.3], labels: [0, 0] } as const
    expect(laws.wbfOfCopies(overlapping, 2, { method: 'wbf' })).toEqual({ holds: true, applied: false })
  })

  it('the predicates report violations in words', () => {
    expect(laws.fusionOrder([boxes.empty], { method: 'nms' }, [1])).toMatchObject({ holds: false, reason: expect.stringMatching(/not a permutation/) })
    // Two boxes of one class at IoU 0.152 / 0.168 ≈ 0.905 are both kept at threshold 0.95:
    const close = [{ boxes: [[0.1, 0.1, 0.5, 0.5], [0.12, 0.1, 0.52, 0.5]], scores: [0.9, 0.8], labels: [0, 0] }] as const
    expect(laws.nmsSeparation(close, { method: 'nms', iouThreshold: 0.95 }).holds).toBe(true)
    const kept = boxes.fuse(close, { method: 'nms', iouThreshold: 0.95 })
    expect(E.isRight(kept) && kept.right.boxes.length).toBe(2)
  })
})
