/**
 * The wrappers' new options end to end: uncertainty streamed by a real run against the same
 * measures over the views computed by hand (ttach's per-view API), the view preparation, early
 * exit, and a policy given in place of a product.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  aliases, buildPlan, identity, orThrow, product, runnableViews, spreadAccumulator, tensor, transforms as T, views, wrap,
  type Tensor,
} from '../../src/index.js'

// A 2-class "segmenter" whose answer depends on where a pixel is (so views disagree after mapping back).
const positional = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
  const [n, , h, w] = x.shape
  const out = new Float32Array(n * 2 * h * w)
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const v = x.data[(b * h + i) * w + j] ?? 0
        out[((b * 2) * h + i) * w + j] = v + 0.3 * j
        out[((b * 2 + 1) * h + i) * w + j] = 1 - v + 0.2 * i
      }
    }
  }
  return orThrow(tensor([n, 2, h, w], out))
}
const image = orThrow(tensor([2, 1, 3, 4], Array.from({ length: 24 }, (_, k) => ((k * 5) % 11) / 10)))

// A 3-class classifier: scores from the left half, the right half, and the top row of the image.
const halves = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
  const [n, , h, w] = x.shape
  const out: number[] = []
  for (let b = 0; b < n; b++) {
    let left = 0
    let right = 0
    let top = 0
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) {
      const v = x.data[(b * h + i) * w + j] ?? 0
      if (j < w / 2) left += v
      else right += v
      if (i === 0) top += v
    }
    out.push(left, right, top)
  }
  return orThrow(tensor([n, 3], out))
}

describe('uncertainty from the same pass', () => {
  it('per pixel, equals the measures over the views mapped back one by one (d4 on a non-square image)', async () => {
    const got = orThrow(await wrap.segmentation(positional, aliases.d4(), { uncertainty: 'logits' }).run(image)())
    const hand = spreadAccumulator({ outer: 2, classes: 2, inner: 12 }, 'logits')
    for (const view of runnableViews(aliases.d4())) {
      const seen = await positional(orThrow(view.augmentImage(image)))
      orThrow(hand.add(orThrow(view.deaugmentMask(seen, image)).data))
    }
    const want = orThrow(hand.result())
    expect(got.uncertainty.entropy.shape).toEqual([2, 3, 4])
    for (const key of ['entropy', 'mutualInformation', 'variance', 'agreement'] as const) {
      Array.from(want[key]).forEach((v, i) => expect(got.uncertainty[key].data[i], key).toBeCloseTo(v, 5))
    }
    // the prediction is the same as without the measures
    const plain = orThrow(await wrap.segmentation(positional, aliases.d4()).run(image)())
    expect(Array.from(got.prediction.data)).toEqual(Array.from(plain.data))
  })

  it('per image, for classification, with a vote merge too', async () => {
    const got = orThrow(await wrap.classification(halves, aliases.flip(), { merge: 'vote', uncertainty: 'logits' }).run(image)())
    expect(got.uncertainty.agreement.shape).toEqual([2])
    const plain = orThrow(await wrap.classification(halves, aliases.flip(), { merge: 'vote' }).run(image)())
    expect(Array.from(got.prediction.data)).toEqual(Array.from(plain.data))
    for (const a of got.uncertainty.agreement.data) expect([0.25, 0.5, 0.75, 1]).toContain(a)
  })

  it('keypoints have no classes: a plan that asks is a ParamError', () => {
    const asked = buildPlan('keypoints', views(aliases.hflip()), [1, 1, 3, 4], { merge: 'mean', uncertainty: 'logits' })
    expect(E.isLeft(asked) && asked.left.message).toMatch(/keypoints have no classes/)
    expect(E.isRight(buildPlan('segmentation', views(aliases.hflip()), [1, 1, 3, 4], { merge: 'mean', uncertainty: 'logits' }))).toBe(true)
  })
})

describe('combine: probabilities and weights before the merge', () => {
  it('uniform weights with sum equal the mean merge; one-hot weights pick a view', async () => {
    const p = aliases.flip()
    const mean = orThrow(await wrap.classification(halves, p, { merge: 'mean' }).run(image)())
    const uniform = orThrow(await wrap.classification(halves, p, { merge: 'sum', combine: { weights: [[0.25], [0.25], [0.25], [0.25]] } }).run(image)())
    Array.from(mean.data).forEach((v, i) => expect(uniform.data[i]).toBeCloseTo(v, 6))
    // view 2 of flip() is the left-right mirror, view 1 of hflip() too
    const third = orThrow(await wrap.classification(halves, p, { merge: 'sum', combine: { weights: [[0], [0], [1], [0]] } }).run(image)())
    const mirror = orThrow(await wrap.classification(halves, aliases.hflip(), { merge: 'sum', combine: { weights: [[0], [1]] } }).run(image)())
    expect(Array.from(third.data)).toEqual(Array.from(mirror.data))
  })

  it('probabilities: the mean of the views\' softmax', async () => {
    const got = orThrow(await wrap.classification(halves, aliases.hflip(), { merge: 'mean', combine: { probabilities: true } }).run(image)())
    const a = await halves(image)
    const b = await halves(orThrow(runnableViews(aliases.hflip())[1]?.augmentImage(image) ?? E.left({ _tag: 'ShapeError', message: '' })))
    const softmax = (row: Float32Array): number[] => { const m = Math.max(...row); const e = Array.from(row, (v) => Math.exp(v - m)); const s = e.reduce((x, y) => x + y, 0); return e.map((v) => v / s) }
    for (let n = 0; n < 2; n++) {
      const pa = softmax(a.data.subarray(n * 3, n * 3 + 3))
      const pb = softmax(b.data.subarray(n * 3, n * 3 + 3))
      for (let c = 0; c < 3; c++) expect(got.data[n * 3 + c]).toBeCloseTo(((pa[c] ?? 0) + (pb[c] ?? 0)) / 2, 6)
    }
  })

  it('a weight row per view is required, and negative weights are refused', async () => {
    const short = await wrap.classification(halves, aliases.flip(), { merge: 'sum', combine: { weights: [[1]] } }).run(image)()
    expect(E.isLeft(short) && short.left.message).toMatch(/one row per view \(4\), got 1/)
    const negative = await wrap.classification(halves, aliases.hflip(), { merge: 'sum', combine: { weights: [[2], [-1]] } }).run(image)()
    expect(E.isLeft(negative) && negative.left.message).toMatch(/finite and ≥ 0/)
  })
})

describe('early exit', () => {
  const pool = orThrow(T.translate([[0, 1], [1, 0], [0, -1]]))
  const four = product(pool)

  it('with a rule no input meets, every input uses every view and the answer is the full run\'s', async () => {
    let used: Int32Array | undefined
    const full = orThrow(await wrap.classification(halves, four, { merge: 'mean' }).run(image)())
    const early = orThrow(await wrap.classification(halves, four, { merge: 'mean', earlyExit: { margin: 1, onViewsUsed: (u) => { used = u } } }).run(image)())
    expect(Array.from(early.data)).toEqual(Array.from(full.data))
    expect(Array.from(used ?? [])).toEqual([4, 4])
  })

  it('stops an input once its views agree by the margin, and calls the model on fewer images', async () => {
    // Image 0 is clearly "left", image 1 is balanced: with a small margin only image 0 stops early.
    const pictures = orThrow(tensor([2, 1, 2, 4], [9, 9, 0, 0, 9, 9, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]))
    let imagesSeen = 0
    const counting = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => { imagesSeen += x.shape[0]; return halves(x) }
    let used: Int32Array | undefined
    const early = orThrow(await wrap.classification(counting, four, { earlyExit: { margin: 0.5, onViewsUsed: (u) => { used = u } } }).run(pictures)())
    expect(Array.from(used ?? [])).toEqual([2, 4])
    expect(imagesSeen).toBe(6)
    expect(early.shape).toEqual([2, 3])
  })

  it('refuses a margin outside (0, 1] and uncertainty together with it', async () => {
    const bad = await wrap.classification(halves, four, { earlyExit: { margin: 0 } }).run(image)()
    expect(E.isLeft(bad) && bad.left.message).toMatch(/margin must be in \(0, 1\]/)
    const both = await wrap.classification(halves, four, { earlyExit: { margin: 0.5 }, uncertainty: 'logits' }).run(image)()
    expect(E.isLeft(both) && both.left.message).toMatch(/earlyExit and uncertainty/)
  })
})

describe('a policy in place of a product', () => {
  const policy: wrap.RunnablePolicy = {
    _tag: 'Policy', task: 'classification', model: { input: [1, 3, 4], classes: 3 },
    product: aliases.hflip(), merge: 'mean', calibration: { over: 'logits', temperature: 2 },
  }

  it('runs its views and returns probabilities calibrated with its temperature', async () => {
    const got = orThrow(await wrap.classification(halves, policy).run(image)())
    const merged = orThrow(await wrap.classification(halves, aliases.hflip()).run(image)())
    for (let n = 0; n < 2; n++) {
      const row = Array.from(merged.data.subarray(n * 3, n * 3 + 3), (v) => v / 2)
      const m = Math.max(...row)
      const s = row.reduce((a, v) => a + Math.exp(v - m), 0)
      row.forEach((v, c) => expect(got.data[n * 3 + c]).toBeCloseTo(Math.exp(v - m) / s, 6))
    }
  })

  it('refuses an image, a model or a task it was not made for, and a merge on top of its own', async () => {
    const other = orThrow(tensor([1, 1, 4, 4], new Float32Array(16)))
    const wrongImage = await wrap.classification(halves, policy).run(other)()
    expect(E.isLeft(wrongImage) && wrongImage.left._tag === 'PolicyError' && wrongImage.left.message).toMatch(/made for images of \[1,3,4\].*\[1,1,4,4\]/)
    const twoClasses = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => orThrow(tensor([x.shape[0], 2], new Float32Array(x.shape[0] * 2)))
    const wrongModel = await wrap.classification(twoClasses, policy).run(image)()
    expect(E.isLeft(wrongModel) && wrongModel.left._tag === 'PolicyError' && wrongModel.left.message).toMatch(/3 classes/)
    const declared = Object.assign(halves.bind(null), { signature: { input: ['N', 1, 8, 8], output: ['N', 3] } })
    const wrongSignature = await wrap.classification(declared, policy).run(image)()
    expect(E.isLeft(wrongSignature) && wrongSignature.left.message).toMatch(/input \[N,1,3,4\], but this model takes \[N,1,8,8\]/)
    const segmentation = await wrap.segmentation(positional, policy).run(image)()
    expect(E.isLeft(segmentation) && segmentation.left.message).toMatch(/classification policy cannot run in the segmentation wrapper/)
    const merge = await wrap.classification(halves, policy, { merge: 'max' }).run(image)()
    expect(E.isLeft(merge) && merge.left._tag).toBe('ParamError')
  })

  it('early exit with a policy reads its calibration and still gives calibrated probabilities', async () => {
    const full = orThrow(await wrap.classification(halves, policy).run(image)())
    const early = orThrow(await wrap.classification(halves, policy, { earlyExit: { margin: 1 } }).run(image)())
    Array.from(full.data).forEach((v, i) => expect(early.data[i]).toBeCloseTo(v, 6))
    expect(E.isRight(await wrap.classification(halves, identity).run(image)())).toBe(true)
  })
})
