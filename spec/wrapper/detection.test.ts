// wrap.detection with a synthetic detector that boxes bright rectangles: on the real augmented
// pixels, so flips, turns, crops, tiles and shifts provably bring the true box back.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  aliases, boxMaps, clipBox, custom, dryRun, explain, orThrow, product, tensor, transforms as T, views, wrap,
  type boxes, type Tensor, type TtaError,
} from '../../src/index.js'

type Box4 = readonly [number, number, number, number]

/** Boxes of the 4-connected blobs brighter than 0.5 in each image, in pixels of what it was shown; score 0.9, label = channel 0's value rounded. */
const brightBlobs = (x: Tensor<readonly ['N', 1, 'H', 'W']>): readonly boxes.Detections[] => {
  const [n, , h, w] = x.shape
  return Array.from({ length: n }, (_, b) => {
    const plane = x.data.subarray(b * h * w, (b + 1) * h * w)
    const seen = new Uint8Array(h * w)
    const found: Box4[] = []
    for (let start = 0; start < h * w; start++) {
      if (seen[start] === 1 || (plane[start] ?? 0) <= 0.5) continue
      let box: [number, number, number, number] = [w, h, 0, 0]
      const stack = [start]
      seen[start] = 1
      while (stack.length > 0) {
        const k = stack.pop() ?? 0
        const i = Math.floor(k / w), j = k % w
        box = [Math.min(box[0], j), Math.min(box[1], i), Math.max(box[2], j + 1), Math.max(box[3], i + 1)]
        for (const [di, dj] of [[1, 0], [-1, 0], [0, 1], [0, -1]] as const) {
          const ii = i + di, jj = j + dj
          const q = ii * w + jj
          if (ii >= 0 && ii < h && jj >= 0 && jj < w && seen[q] !== 1 && (plane[q] ?? 0) > 0.5) { seen[q] = 1; stack.push(q) }
        }
      }
      found.push(box)
    }
    return { boxes: found, scores: found.map(() => 0.9), labels: found.map(() => 0) }
  })
}
const detector = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => brightBlobs(x)

/** N images of height×width with one bright rectangle each (image b gets rects[b]). */
const scene = (height: number, width: number, rects: readonly Box4[]) =>
  orThrow(tensor([rects.length, 1, height, width], rects.flatMap(([x1, y1, x2, y2]) =>
    Array.from({ length: height * width }, (_, k) => {
      const i = Math.floor(k / width), j = k % width
      return i >= y1 && i < y2 && j >= x1 && j < x2 ? 1 : 0
    }))))

const rounded = (b: readonly number[]) => b.map((v) => Math.round(v * 1e9) / 1e9)
const ok = <A>(r: E.Either<TtaError, A>): A => {
  if (E.isLeft(r)) throw new Error(`${r.left._tag}: ${r.left.message}`)
  return r.right
}

describe('the true box comes back through every view', () => {
  const rects: readonly Box4[] = [[1, 0, 4, 2], [3, 2, 6, 5]]
  const image = scene(5, 7, rects)   // non-square, two images in the batch

  it('d4 (turns of a non-square frame): every view finds the true box, and the fusion is it', async () => {
    const found = ok(await wrap.detection(detector, aliases.d4(), { keepViews: true }).run(image)())
    expect(found).toHaveLength(2)
    found.forEach((r, b) => {
      expect(r.views).toHaveLength(8)
      for (const v of r.views) expect(v.detections.boxes, `${v.view}, image ${b}`).toEqual([rects[b]])
      expect(r.boxes.map(rounded)).toEqual([rects[b]])
      expect(r.scores.map((s) => Math.round(s * 1e9) / 1e9)).toEqual([0.9])
    })
  })

  it.each([
    ['nms', { method: 'nms' } as const],
    ['nmw', { method: 'nmw' } as const],
    ['wbf max', { method: 'wbf', confidence: 'max' } as const],
  ])('with %s fusion too', async (_, fusion) => {
    const found = ok(await wrap.detection(detector, aliases.flip(), { fusion }).run(image)())
    expect(found.map((r) => r.boxes.map(rounded))).toEqual(rects.map((r) => [r]))
  })

  it('with soft-NMS, which keeps the other views\' copies at decayed scores', async () => {
    const found = ok(await wrap.detection(detector, aliases.flip(), { fusion: { method: 'soft-nms', kernel: 'gaussian' } }).run(image)())
    found.forEach((r, b) => {
      expect(r.boxes.map(rounded)).toEqual([rects[b], rects[b], rects[b], rects[b]])
      expect(r.scores[0]).toBe(0.9)
      expect(Math.max(...r.scores.slice(1))).toBeLessThan(0.9)
    })
  })

  it('normalised coordinates: in fractions of the view, back in fractions of the input', async () => {
    const normalised = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
      const [, , h, w] = x.shape
      return brightBlobs(x).map((d) => ({ ...d, boxes: d.boxes.map(([x1, y1, x2, y2]) => [x1 / w, y1 / h, x2 / w, y2 / h]) }))
    }
    const found = ok(await wrap.detection(normalised, aliases.d4(), { coordinates: 'normalized', fusion: { method: 'nms' } }).run(image)())
    found.forEach((r, b) => {
      const [x1, y1, x2, y2] = rects[b] ?? [0, 0, 0, 0]
      expect(r.boxes).toHaveLength(1)
      r.boxes[0]?.forEach((v, k) => expect(v).toBeCloseTo([x1 / 7, y1 / 5, x2 / 7, y2 / 5][k] ?? Number.NaN, 12))
    })
  })

  it('five crops, a translation and a quarter turn: boxes shift back by the offsets', async () => {
    const big = scene(8, 10, [[3, 2, 6, 5]])
    const tta = product(orThrow(T.translate([[1, -1], [-2, 0]])), orThrow(T.fiveCrops(6, 7)), orThrow(T.rotate90([90])))
    const found = ok(await wrap.detection(detector, tta, { keepViews: true, fusion: { method: 'nms' } }).run(big)())
    const [r] = found
    const specs = views(tta)
    expect(r?.views.map((v) => v.index)).toEqual(specs.map((s) => s.index))
    // Each view reports exactly the part of the rectangle it shows: all of it, the part its crop
    // or shift left in the frame, or nothing.
    let whole = 0
    for (const v of r?.views ?? []) {
      const window = orThrow(boxMaps(specs[v.index]?.steps ?? [], 8, 10)).window
      const seen = clipBox([3, 2, 6, 5], window)
      const visible = seen !== undefined && seen[0] < seen[2] && seen[1] < seen[3]
      expect(v.detections.boxes, v.view).toEqual(visible ? [seen] : [])
      if (seen?.join() === '3,2,6,5') whole++
    }
    expect(whole).toBeGreaterThan(0)
    expect(whole).toBeLessThan(specs.length)
    // The cut parts compete in the fusion; dropped, only the whole box is left.
    expect(r?.boxes.length).toBeGreaterThan(1)
    const dropped = ok(await wrap.detection(detector, tta, { cutBoxes: 'drop', fusion: { method: 'nms' } }).run(big)())
    expect(dropped[0]?.boxes.map(rounded)).toEqual([[3, 2, 6, 5]])
  })

  it("tiles: a box cut by a tile's inner border is dropped with cutBoxes: 'drop', and the tile that sees it whole keeps it", async () => {
    // A 6x12 image, two 6x8 tiles at x = 0 and x = 4 (overlapping by 4): the rectangle at x 6..10 is
    // cut by the first tile's inner edge (x = 8) and seen whole by the second.
    const wide = scene(6, 12, [[6, 1, 10, 4]])
    const tiles = orThrow(aliases.tiles(6, 8, { rows: 1, cols: 2 }))
    const keep = ok(await wrap.detection(detector, tiles, { keepViews: true, fusion: { method: 'nms', iouThreshold: 0.9 } }).run(wide)())
    expect(keep[0]?.views.map((v) => v.detections.boxes)).toEqual([[[6, 1, 8, 4]], [[6, 1, 10, 4]]])
    expect(keep[0]?.boxes).toHaveLength(2)   // the cut half and the whole box do not overlap enough to merge
    const drop = ok(await wrap.detection(detector, tiles, { keepViews: true, cutBoxes: 'drop', fusion: { method: 'nms', iouThreshold: 0.9 } }).run(wide)())
    expect(drop[0]?.views.map((v) => v.detections.boxes)).toEqual([[], [[6, 1, 10, 4]]])
    expect(drop[0]?.boxes).toEqual([[6, 1, 10, 4]])
  })

  it('scales: the box comes back within a view pixel', async () => {
    const big = scene(12, 16, [[4, 2, 10, 8]])
    const found = ok(await wrap.detection(detector, orThrow(aliases.multiscale([0.5, 2], 'nearest')), { keepViews: true }).run(big)())
    for (const v of found[0]?.views ?? []) {
      v.detections.boxes[0]?.forEach((c, k) => expect(Math.abs(c - ([4, 2, 10, 8][k] ?? 0))).toBeLessThanOrEqual(2))
    }
  })

  it('a custom transform with a point map moves boxes by it', async () => {
    const transpose = orThrow(custom({
      name: 'transpose',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
      backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
      points: { forward: (x, y) => [y, x], backward: (x, y) => [y, x] },
    }))
    const found = ok(await wrap.detection(detector, product(transpose), { fusion: { method: 'nms' } }).run(image)())
    expect(found.map((r) => r.boxes.map(rounded))).toEqual(rects.map((r) => [r]))
  })
})

describe('running', () => {
  const image = scene(4, 6, [[1, 1, 3, 2]])

  it('batches views of one size into one call, and follows maxBatch, budget and batch: false', async () => {
    const calls: string[] = []
    const counting = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => { calls.push(x.shape.join('x')); return brightBlobs(x) }
    ok(await wrap.detection(counting, aliases.d4()).run(image)())
    expect(calls).toEqual(['4x1x4x6', '4x1x6x4'])
    calls.length = 0
    ok(await wrap.detection(counting, aliases.d4(), { maxBatch: 2 }).run(image)())
    expect(calls).toHaveLength(4)
    calls.length = 0
    ok(await wrap.detection(counting, aliases.hflip(), { batch: false }).run(image)())
    expect(calls).toEqual(['1x1x4x6', '1x1x4x6'])
  })

  it('passes extra arguments through and reports progress', async () => {
    const seen: unknown[] = []
    const progress: string[] = []
    const withArgs = async (x: Tensor<readonly ['N', 1, 'H', 'W']>, tag: string) => { seen.push(tag); return brightBlobs(x) }
    ok(await wrap.detection(withArgs, aliases.flip(), { onView: (d, t) => progress.push(`${d}/${t}`) }).run(image, 'extra')())
    expect(seen).toEqual(['extra'])
    expect(progress).toEqual(['1/4', '2/4', '3/4', '4/4'])
  })

  it('explains and dry-runs its plan', () => {
    const tta = wrap.detection(detector, orThrow(aliases.tiles(3, 4, { rows: 2, cols: 2, whole: true })), { fusion: { method: 'wbf', iouThreshold: 0.6 }, cutBoxes: 'drop' })
    const plan = orThrow(tta.plan(image))
    const text = explain(plan)
    expect(text.split('\n')[0]).toBe('5 views · 2 chunks (1 + 4) · detection of [1,1,4,6] · fusion wbf (iouThreshold 0.6) · cut boxes dropped')
    expect(text).toContain('Tiles([1,1]) [lossy]: in: gather 4x6 → 3x4 reading (i + 1, j + 2) | boxes back from 3x4, seen [2,1,6,4]')
    expect(dryRun(plan, { input: ['N', 1, 'H', 'W'] })).toEqual(E.right({ calls: [{ chunk: 0, input: [1, 1, 4, 6] }, { chunk: 1, input: [4, 1, 3, 4] }] }))
    const fixed = dryRun(plan, { input: ['N', 1, 4, 6] })
    expect(E.isLeft(fixed) && fixed.left.message).toMatch(/Tiles\(\[0,0\]\).*does not fit the model's input \[N,1,4,6\]/)
  })

  it("a model's signature (via wrap.detector) is checked before any call", async () => {
    let called = 0
    const onnxLike = Object.assign(async (x: Tensor<readonly ['N', 1, 4, 6]>) => { called++; return x }, { signature: { input: ['N', 1, 4, 6], maxBatch: 8 } })
    const model = wrap.detector(onnxLike, (map) => brightBlobs(orThrow(tensor([1, 1, map.shape[2] ?? 0, map.shape[3] ?? 0], map.data)))[0] ?? { boxes: [], scores: [], labels: [] })
    expect(model.signature).toEqual({ input: ['N', 1, 4, 6], maxBatch: 8 })
    // An image whose size is known only at run time: the turned view is checked there.
    const dims: readonly number[] = [1, 1, 4, 6]
    const turned = await wrap.detection(model, orThrow(aliases.rotate90([90]))).run(orThrow(tensor(dims, image.data)))()
    expect(E.isLeft(turned) && turned.left.message).toMatch(/Rotate90\(90\) gives a model input of \[1,1,6,4\]/)
    expect(called).toBe(0)
    const flipped = ok(await wrap.detection(model, aliases.hflip(), { fusion: { method: 'nms' } }).run(image)())
    expect(flipped[0]?.boxes).toEqual([[1, 1, 3, 2]])
  })
})

describe('bad input is a typed error or a documented rule, never a throw', () => {
  const image = scene(4, 6, [[1, 1, 3, 2]])
  /** A model whose answer for a batch of n is `answer(n)`. */
  const answering = (answer: (n: number) => readonly wrap.DetectionsLike[]) => async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => answer(x.shape[0])
  const run = (answer: (n: number) => readonly wrap.DetectionsLike[], options: wrap.DetectionOptions<false> = {}) =>
    wrap.detection(answering(answer), aliases.hflip(), options).run(image)()
  const each = (d: wrap.DetectionsLike) => (n: number) => Array.from({ length: n }, () => d)
  /** A JavaScript model: it resolves to whatever the JSON says, per batch image or as a whole. */
  const untypedModel = (json: string, perImage: boolean) => async (x: Tensor<readonly ['N', 1, 'H', 'W']>) =>
    (perImage ? Array.from({ length: x.shape[0] }, () => JSON.parse(json)) : JSON.parse(json))

  it.each([
    ['NaN corner', each({ boxes: [[Number.NaN, 0, 1, 1]], scores: [0.5], labels: [0] }), 'BoxError', /view 'identity': box 0 has x1 = NaN/],
    ['Infinity', each({ boxes: [[0, 0, Number.POSITIVE_INFINITY, 1]], scores: [0.5], labels: [0] }), 'BoxError', /x2 = Infinity/],
    ['x2 < x1', each({ boxes: [[3, 0, 1, 1]], scores: [0.5], labels: [0] }), 'BoxError', /box 0 has x2 = 1 < x1 = 3/],
    ['negative height', each({ boxes: [[0, 3, 1, 1]], scores: [0.5], labels: [0] }), 'BoxError', /y2 = 1 < y1 = 3/],
    ['score above 1', each({ boxes: [[0, 0, 1, 1]], scores: [1.5], labels: [0] }), 'BoxError', /score 1.5; scores must be within \[0, 1\]/],
    ['fractional label', each({ boxes: [[0, 0, 1, 1]], scores: [0.5], labels: [0.5] }), 'BoxError', /label 0.5; labels must be non-negative integers/],
    ['mismatched lengths', each({ boxes: [[0, 0, 1, 1]], scores: [0.5, 0.4], labels: [0] }), 'BoxError', /1 boxes, 2 scores and 1 labels/],
    ['a box of 3 numbers', each({ boxes: [[0, 0, 1]], scores: [0.5], labels: [0] }), 'BoxError', /box 0 must be \[x1, y1, x2, y2\]/],
    ['one answer too few', (n: number) => each({ boxes: [], scores: [], labels: [] })(n - 1), 'ModelError', /a batch of 2 \(2 views × 1 images\) but returned detections for 1/],
  ])('%s', async (_, answer, tag, message) => {
    const r = await run(answer)
    expect(E.isLeft(r) && r.left._tag).toBe(tag)
    expect(E.isLeft(r) && r.left.message).toMatch(message)
  })

  it.each([
    ['missing labels', '{"boxes":[],"scores":[]}', true, 'BoxError', /view 'identity': detections need `boxes`, `scores` and `labels`; `labels` is missing/],
    ['a string for a box', '{"boxes":["0,0,1,1"],"scores":[0.5],"labels":[0]}', true, 'BoxError', /box 0 must be \[x1, y1, x2, y2\]/],
    ['a string for a score', '{"boxes":[[0,0,1,1]],"scores":["high"],"labels":[0]}', true, 'BoxError', /score string "high"/],
    ['null for an image', 'null', true, 'BoxError', /`boxes` is missing/],
    ['one record for the whole batch', '{"boxes":[],"scores":[],"labels":[]}', false, 'ModelError', /must resolve to a list with one \{ boxes, scores, labels \} per image/],
    ['a tensor', '{"shape":[2,1],"data":[0,0]}', false, 'ModelError', /it gave a tensor/],
  ])('untyped: %s', async (_, json, perImage, tag, message) => {
    const r = await wrap.detection(untypedModel(json, perImage), aliases.hflip()).run(image)()
    expect(E.isLeft(r) && r.left._tag).toBe(tag)
    expect(E.isLeft(r) && r.left.message).toMatch(message)
  })

  it('names the view and the image when the batch has several', async () => {
    const two = scene(4, 6, [[1, 1, 3, 2], [0, 0, 1, 1]])
    const bad = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) =>
      brightBlobs(x).map((d, b) => (b === 3 ? { ...d, scores: [2] } : d))   // the second image of the mirrored view
    const r = await wrap.detection(bad, aliases.hflip()).run(two)()
    expect(E.isLeft(r) && r.left.message).toMatch(/^view 'HorizontalFlip\(true\)', image 1: box 0 has score 2/)
  })

  it('an empty view, and all views empty, are valid: empty is an answer', async () => {
    const none = ok(await run(each({ boxes: [], scores: [], labels: [] })))
    expect(none).toEqual([{ boxes: [], scores: [], labels: [] }])
    const firstOnly = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => brightBlobs(x).map((d, b) => (b === 0 ? d : { boxes: [], scores: [], labels: [] }))
    const one = ok(await wrap.detection(firstOnly, aliases.hflip(), { fusion: { method: 'nms' } }).run(image)())
    expect(one[0]?.boxes).toEqual([[1, 1, 3, 2]])
  })

  it("pixels passed as 'normalized' are a BoxError that says so", async () => {
    const r = await run(each({ boxes: [[1, 1, 3, 2]], scores: [0.5], labels: [0] }), { coordinates: 'normalized' })
    expect(E.isLeft(r) && r.left.message).toMatch(/coordinates are 'normalized'.*pass coordinates: 'pixels'/)
  })

  it('a model that rejects is a ModelError; a detector whose decode fails keeps its error', async () => {
    const failing = async (_x: Tensor<readonly ['N', 1, 'H', 'W']>): Promise<readonly boxes.Detections[]> => { throw new Error('out of memory') }
    const r = await wrap.detection(failing, aliases.hflip()).run(image)()
    expect(E.isLeft(r) && r.left._tag === 'ModelError' && r.left.message).toMatch(/out of memory/)
    const decodeFails = wrap.detector(async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => x, () => E.left({ _tag: 'BoxError' as const, message: 'no boxes in this map' }))
    const d = await wrap.detection(decodeFails, aliases.hflip()).run(image)()
    expect(E.isLeft(d) && d.left).toEqual({ _tag: 'BoxError', message: 'no boxes in this map' })
  })

  it('bad options from untyped callers are ParamErrors', async () => {
    // Options read from a JSON config arrive untyped.
    const untyped = (o: unknown) => JSON.parse(JSON.stringify(o))
    const cases: readonly [unknown, RegExp][] = [
      [{ fusion: { method: 'median' } }, /method/],
      [{ fusion: { method: 'wbf', iouThreshold: 2 } }, /iouThreshold/],
      [{ fusion: { method: 'wbf', weights: [1, 2, 3] } }, /weights has 3 entries for 2 views/],
      [{ cutBoxes: 'sometimes' }, /^options: cutBoxes: expected "keep" \| "drop", got "sometimes"/],
      [{ coordinates: 'inches' }, /^options: coordinates: expected "pixels" \| "normalized"/],
      [{ keepViews: 'yes' }, /^options: keepViews/],
      [{ fusion: { method: 'wbf' }, mege: 'mean' }, /mege/],
    ]
    for (const [options, message] of cases) {
      const r = await wrap.detection(detector, aliases.hflip(), untyped(options)).run(image)()
      expect(E.isLeft(r) && r.left._tag, JSON.stringify(options)).toBe('ParamError')
      expect(E.isLeft(r) && r.left.message).toMatch(message)
    }
  })

  it('a custom point map that throws is a ParamError, not a rejection', async () => {
    const broken = orThrow(custom({
      name: 'broken',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
      backward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
      points: { forward: (x, y) => [x, y], backward: () => { throw new Error('no way back') } },
    }))
    const r = await wrap.detection(detector, product(broken)).run(image)()
    expect(E.isLeft(r) && r.left._tag === 'ParamError' && r.left.message).toMatch(/no way back/)
  })

  it('a point map that gives NaN is a BoxError naming the view', async () => {
    const nan = orThrow(custom({
      name: 'nan',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
      backward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
      points: { forward: (x, y) => [x, y], backward: () => [Number.NaN, 0] },
    }))
    const r = await wrap.detection(detector, product(nan)).run(image)()
    expect(E.isLeft(r) && r.left._tag === 'BoxError' && r.left.message).toMatch(/view 'nan\(true\)': box 0 .* maps back to \[NaN/)
  })
})
