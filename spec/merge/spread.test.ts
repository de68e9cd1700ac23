/**
 * The streamed uncertainty measures against a direct computation over the stacked views, and the
 * view preparation (probabilities, weights) and calibration helpers.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { calibrate, checkPreparation, orThrow, prepareView, spreadAccumulator } from '../../src/index.js'

const softmax = (row: readonly number[]): number[] => {
  const m = Math.max(...row)
  const e = row.map((v) => Math.exp(v - m))
  const s = e.reduce((a, v) => a + v, 0)
  return e.map((v) => v / s)
}
const entropy = (p: readonly number[]): number => p.reduce((a, v) => a - (v > 0 ? v * Math.log(v) : 0), 0)

/** The four measures computed from all views at once: the definition the stream must meet. */
const stacked = (views: readonly (readonly number[])[], outer: number, classes: number, inner: number) => {
  const out = { entropy: [] as number[], mutualInformation: [] as number[], variance: [] as number[], agreement: [] as number[] }
  for (let o = 0; o < outer; o++) {
    for (let p = 0; p < inner; p++) {
      const probs = views.map((v) => {
        const row = Array.from({ length: classes }, (_, c) => v[(o * classes + c) * inner + p] ?? 0)
        return classes === 1 ? [1 - 1 / (1 + Math.exp(-(row[0] ?? 0))), 1 / (1 + Math.exp(-(row[0] ?? 0)))] : softmax(row)
      })
      const k = probs[0]?.length ?? 0
      const mean = Array.from({ length: k }, (_, c) => probs.reduce((a, q) => a + (q[c] ?? 0), 0) / probs.length)
      const h = entropy(mean)
      const top = mean.indexOf(Math.max(...mean))
      out.entropy.push(h)
      out.mutualInformation.push(Math.max(0, h - probs.reduce((a, q) => a + entropy(q), 0) / probs.length))
      out.variance.push(mean.reduce((a, m, c) => a + probs.reduce((b, q) => b + ((q[c] ?? 0) - m) ** 2, 0) / probs.length, 0) / k)
      out.agreement.push(probs.filter((q) => q.indexOf(Math.max(...q)) === top).length / probs.length)
    }
  }
  return out
}

describe('spread accumulator', () => {
  it('streams the same four measures as a computation over all views stacked (logits, 1–4 classes)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 6 }), fc.integer(),
      (outer, classes, inner, count, seed) => {
        let s = seed
        const next = (): number => { s = (Math.imul(s ^ (s >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) | 0; return ((s >>> 0) / 4294967296) * 8 - 4 }
        const views = Array.from({ length: count }, () => Array.from({ length: outer * classes * inner }, next))
        const acc = spreadAccumulator({ outer, classes, inner }, 'logits')
        for (const v of views) orThrow(acc.add(Float32Array.from(v)))
        const got = orThrow(acc.result())
        // the stream sees float32 views: compare with the definition on the same float32 values
        const want = stacked(views.map((v) => Array.from(Float32Array.from(v))), outer, classes, inner)
        for (const key of ['entropy', 'mutualInformation', 'variance', 'agreement'] as const) {
          want[key].forEach((v, i) => expect(got[key][i], key).toBeCloseTo(v, 5))
        }
      }), { numRuns: 200 })
  })

  it('holds three running sums the size of one prediction, whatever the number of views', () => {
    // 2 images x 3 classes: the result has one value per image after 1 view or 500.
    const acc = spreadAccumulator({ outer: 2, classes: 3, inner: 1 }, 'probabilities')
    for (let v = 0; v < 500; v++) orThrow(acc.add(Float32Array.of(0.2, 0.3, 0.5, 1, 0, 0)))
    const m = orThrow(acc.result())
    expect(m.entropy.length).toBe(2)
    expect(Array.from(m.agreement)).toEqual([1, 1])
    expect(m.variance[0]).toBeCloseTo(0, 12)
    expect(acc.count()).toBe(500)
  })

  it('refuses non-probabilities, non-finite values and a wrong length, naming the view', () => {
    const acc = spreadAccumulator({ outer: 1, classes: 2, inner: 1 }, 'probabilities')
    const big = acc.add(Float32Array.of(0.5, 1.5))
    expect(E.isLeft(big) && big.left.message).toMatch(/view 0 has 1.5 at index 1, which is not a probability/)
    const nan = spreadAccumulator({ outer: 1, classes: 2, inner: 1 }, 'logits').add(Float32Array.of(Number.NaN, 0))
    expect(E.isLeft(nan) && nan.left.message).toMatch(/non-finite/)
    expect(E.isLeft(acc.add(Float32Array.of(0.5)))).toBe(true)
    expect(E.isLeft(acc.result())).toBe(true) // nothing was added
  })
})

describe('view preparation and calibration', () => {
  it('softmaxes along the class axis of [N, K, H, W] and leaves the input alone', () => {
    const layout = { outer: 1, classes: 2, inner: 2 }
    const view = Float64Array.of(0, 1, 0, -1) // class 0 at pixels 0,1 then class 1
    const p = prepareView({ probabilities: true }, 0, view, layout)
    expect(Array.from(p, (v) => v.toFixed(4))).toEqual(['0.5000', '0.8808', '0.5000', '0.1192'])
    expect(Array.from(view)).toEqual([0, 1, 0, -1])
  })

  it('refuses weights of the wrong count, length or sign', () => {
    expect(E.isLeft(checkPreparation({ weights: [[0.5], [0.5], [0]] }, 2, 3))).toBe(true)
    expect(E.isLeft(checkPreparation({ weights: [[0.5, 0.5], [0.5]] }, 2, 3))).toBe(true)
    expect(E.isLeft(checkPreparation({ weights: [[Number.NaN], [1]] }, 2, 3))).toBe(true)
    expect(E.isRight(checkPreparation({ weights: [[0.2, 0.3, 0.5], [1]] }, 2, 3))).toBe(true)
  })

  it('calibrates a merge of probabilities through its logarithm, and a vote as it is', () => {
    const layout = { outer: 1, classes: 3, inner: 1 }
    const p = calibrate(Float32Array.of(0.2, 0.3, 0.5), layout, { over: 'probabilities', temperature: 1 })
    expect(Array.from(p, (v) => v.toFixed(4))).toEqual(['0.2000', '0.3000', '0.5000'])
    const vote = calibrate(Float32Array.of(0, 1, 0), layout, { over: 'probabilities', vote: true, temperature: 0.5 })
    expect(vote[1]).toBeCloseTo(Math.exp(2) / (Math.exp(2) + 2), 6)
    const none = calibrate(Float32Array.of(0, 0, 0), layout, { over: 'probabilities', temperature: 1 })
    expect(Array.from(none)).toEqual([1 / 3, 1 / 3, 1 / 3].map((v) => Math.fround(v))) // every class underflowed: uniform, not NaN
  })
})
