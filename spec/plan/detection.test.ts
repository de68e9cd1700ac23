/**
 * The detection task in the plan interpreters: the dry run predicts the calls the run makes, the run
 * gives the same detections on every backend, and the plan refuses what it cannot do.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  aliases, buildPlan, custom, dryRun, jsBackend, orThrow, product, referenceBackend, runDetections, runPlan, transforms as T, views,
  type AnyFactor, type RawTensor,
} from '../../src/index.js'

const factorArb: fc.Arbitrary<AnyFactor> = fc.oneof(
  fc.constant(T.hflip()),
  fc.constant(T.vflip()),
  fc.constantFrom(orThrow(T.rotate90([90, 180, 270]))),
  fc.constantFrom(orThrow(T.scale([0.5, 2], { interpolation: 'bilinear' })), orThrow(T.resize([[5, 7]], { interpolation: 'nearest' }))),
  fc.constantFrom(orThrow(T.fiveCrops(3, 2)), orThrow(T.tiles(3, 3, { rows: 2, cols: 2, whole: true }))),
  fc.constantFrom(orThrow(T.translate([[1, -1]])), orThrow(T.translate([[-2, 0]], { fill: 'edge' }))),
)

/**
 * A detector: the box of each batch image's pixels above 0.5, score the share of the view they
 * cover, label from the view's size. (On 0/1 images the backends' resamples are exact: ×2 and ×0.5
 * bilinear weights are binary fractions.)
 */
const aboveHalf = async (input: RawTensor) => {
  const [b = 1, c = 1, h = 1, w = 1] = input.shape
  const detections = Array.from({ length: b }, (_, i) => {
    const plane = input.data.subarray(i * c * h * w, i * c * h * w + h * w)
    let box = [w, h, 0, 0]
    let lit = 0
    plane.forEach((v, k) => {
      if (v <= 0.5) return
      lit++
      const y = Math.floor(k / w), x = k % w
      box = [Math.min(box[0] ?? w, x), Math.min(box[1] ?? h, y), Math.max(box[2] ?? 0, x + 1), Math.max(box[3] ?? 0, y + 1)]
    })
    return lit === 0 ? { boxes: [], scores: [], labels: [] } : { boxes: [box], scores: [lit / (h * w)], labels: [h * w > 12 ? 1 : 0] }
  })
  return E.right({ detections })
}

describe('detection plans', () => {
  it('dry-run calls equal run calls, and every backend gives the same detections (200 runs)', async () => {
    const caseArb = fc.record({
      factors: fc.array(factorArb, { minLength: 1, maxLength: 3 }),
      n: fc.integer({ min: 1, max: 2 }),
      c: fc.integer({ min: 1, max: 2 }),
      h: fc.integer({ min: 3, max: 8 }),
      w: fc.integer({ min: 3, max: 8 }),
      method: fc.constantFrom('nms' as const, 'wbf' as const),
    })
    await fc.assert(fc.asyncProperty(caseArb, async ({ factors, n, c, h, w, method }) => {
      const image = { shape: [n, c, h, w], data: Float32Array.from({ length: n * c * h * w }, (_, i) => ((i * 7) % 11 < 4 ? 1 : 0)) }
      const plan = buildPlan('detection', views(product(...factors)), image.shape, { fusion: { method } })
      if (E.isLeft(plan)) {
        expect(plan.left.message).toMatch(/does not fit inside|gives an empty|entirely out of the frame/)
        return
      }
      const predicted = orThrow(dryRun(plan.right, { input: ['N', c, 'H', 'W'] }))
      expect(predicted.result).toBeUndefined()
      const calls: (readonly number[])[] = []
      const counted = async (input: RawTensor) => { calls.push(input.shape); return aboveHalf(input) }
      const viaJs = orThrow(await runDetections(plan.right, image, { backend: jsBackend(), callModel: counted }))
      expect(calls).toEqual(predicted.calls.map((call) => call.input))
      const viaReference = orThrow(await runDetections(plan.right, image, { backend: referenceBackend(), callModel: aboveHalf }))
      expect(viaReference).toEqual(viaJs)
      expect(viaJs).toHaveLength(n)
      for (const image of viaJs) {
        expect(image.views.map((v) => v.index)).toEqual(plan.right.views.map((v) => v.index))
        for (const v of image.views) for (const [x1, y1, x2, y2] of v.detections.boxes) expect(0 <= x1 && x1 <= x2 && x2 <= w && 0 <= y1 && y1 <= y2 && y2 <= h).toBe(true)
      }
    }), { numRuns: 200 })
  })

  it('runPlan refuses a detection plan and runDetections a tensor plan, as typed errors', async () => {
    const image = { shape: [1, 1, 4, 6], data: new Float32Array(24) }
    const detection = orThrow(buildPlan('detection', views(aliases.hflip()), image.shape, {}))
    const segmentation = orThrow(buildPlan('segmentation', views(aliases.hflip()), image.shape, { merge: 'mean' }))
    const tensorModel = async (x: RawTensor) => E.right(x)
    const a = await runPlan(detection, image, { backend: jsBackend(), callModel: tensorModel })
    expect(E.isLeft(a) && a.left.message).toMatch(/run it with runDetections/)
    const b = await runDetections(segmentation, image, { backend: jsBackend(), callModel: tensorModel })
    expect(E.isLeft(b) && b.left.message).toMatch(/run it with runPlan/)
    // A model that answers a detection plan with a tensor, or a tensor plan with detections.
    const c = await runDetections(detection, image, { backend: jsBackend(), callModel: tensorModel })
    expect(E.isLeft(c) && c.left._tag === 'ModelError' && c.left.message).toMatch(/one list of boxes per image, but chunk 0 gave a tensor/)
    const d = await runPlan(segmentation, image, { backend: jsBackend(), callModel: aboveHalf })
    expect(E.isLeft(d) && d.left._tag === 'ModelError' && d.left.message).toMatch(/must give a tensor, but chunk 0 gave detections/)
  })

  it('buildPlan says why there is no detection plan', () => {
    const noPoints = orThrow(custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
    }))
    const undo = buildPlan('detection', views(product(noPoints)), [1, 1, 4, 6], {})
    expect(E.isLeft(undo) && undo.left._tag === 'UndoError' && undo.left.message).toMatch(/'transpose' declares no point map/)
    const big = buildPlan('detection', views(orThrow(aliases.tiles(5, 5, { rows: 2, cols: 2 }))), [1, 1, 4, 6], {})
    expect(E.isLeft(big) && big.left.message).toBe('Tiles of 5x5 does not fit inside a 4x6 image')
    const weights = buildPlan('detection', views(aliases.d4()), [1, 1, 4, 6], { fusion: { method: 'wbf', weights: [1, 2] } })
    expect(E.isLeft(weights) && weights.left.message).toMatch(/weights has 2 entries for 8 views/)
    const plan = orThrow(buildPlan('detection', views(aliases.d4()), [1, 1, 4, 6], { fusion: { method: 'nms', weights: [2, 1, 1, 1, 1, 1, 1, 1] } }))
    expect(plan.boxes).toEqual({ fusion: { method: 'nms', weights: [2, 1, 1, 1, 1, 1, 1, 1] }, cutBoxes: 'keep' })
    expect(plan.steps.at(-1)).toEqual({ tag: 'Finalize', merge: 'mean', views: 8, fusion: { method: 'nms', weights: [2, 1, 1, 1, 1, 1, 1, 1] } })
  })
})
