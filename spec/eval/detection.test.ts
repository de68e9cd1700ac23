// Detection scoring on a set: per-image and summed counts, class-aware scores, the sign test and
// the paired bootstrap against a baseline, and the truth-file format with every refusal it makes.
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { checkTruthFits, compareDetections, decodeDetectionTruth, mcnemar, orThrow, scoreDetections, scoreLabelled, setScore, textdet } from '../../src/index.js'

const counts = fc.record({ tp: fc.integer({ min: 0, max: 6 }), fp: fc.integer({ min: 0, max: 3 }), fn: fc.integer({ min: 0, max: 3 }) })
  .map(({ tp, fp, fn }) => textdet.fromCounts(tp, fp, fn))

describe('scoreDetections / scoreLabelled', () => {
  it('sums the counts of the images and recomputes the rates', () => {
    const s = orThrow(scoreDetections([[[0, 0, 4, 4]], [], [[0, 0, 2, 2], [5, 5, 9, 9]]], [[[0, 0, 4, 4]], [[1, 1, 3, 3]], [[0, 0, 2, 2]]]))
    expect([s.total.tp, s.total.fp, s.total.fn]).toEqual([2, 1, 1])
    expect(s.perImage.map((x) => x.f1)).toEqual([1, 0, 2 / 3])
    expect(s.iou).toBe(0.5)
  })
  it('refuses lists of different lengths and an IoU outside (0, 1]', () => {
    expect(E.isLeft(scoreDetections([[]], []))).toBe(true)
    for (const iou of [0, 1.5, Number.NaN]) expect(E.isLeft(scoreDetections([], [], iou))).toBe(true)
  })
  it('matches only within a class', () => {
    const truth = { boxes: [[0, 0, 10, 10], [0, 0, 10, 10]] as const, labels: [0, 1] }
    expect(scoreLabelled({ boxes: [[0, 0, 10, 10]], labels: [1] }, truth)).toEqual(textdet.fromCounts(1, 0, 1))
    expect(scoreLabelled({ boxes: [[0, 0, 10, 10]], labels: [2] }, truth)).toEqual(textdet.fromCounts(0, 1, 2))
  })
})

describe('compareDetections', () => {
  it('counts images better and worse, and its sign test is the exact binomial of those counts (200 runs)', () => {
    fc.assert(fc.property(fc.array(fc.tuple(counts, counts), { minLength: 1, maxLength: 30 }), (pairs) => {
      const a = setScore(pairs.map((p) => p[0]), 0.5)
      const b = setScore(pairs.map((p) => p[1]), 0.5)
      const c = orThrow(compareDetections(a, b, { resamples: 200 }))
      const better = pairs.filter(([x, y]) => x.f1 > y.f1).length
      const worse = pairs.filter(([x, y]) => x.f1 < y.f1).length
      expect([c.better, c.worse, c.same]).toEqual([better, worse, pairs.length - better - worse])
      expect(c.signP).toBe(mcnemar(better, worse))
      expect(c.deltaF1).toBe(a.total.f1 - b.total.f1)
      expect(c.interval[0]).toBeLessThanOrEqual(c.interval[1])
      expect(c.bootstrapP).toBeGreaterThan(0)
      expect(c.bootstrapP).toBeLessThanOrEqual(1)
    }), { numRuns: 200 })
  })
  it('is reproducible by its seed, and a candidate equal to its baseline shows no difference', () => {
    const s = setScore([textdet.fromCounts(3, 1, 0), textdet.fromCounts(1, 0, 2), textdet.fromCounts(0, 2, 1)], 0.5)
    const t = setScore([textdet.fromCounts(3, 0, 0), textdet.fromCounts(2, 0, 1), textdet.fromCounts(0, 2, 1)], 0.5)
    expect(compareDetections(t, s, { seed: 5 })).toEqual(compareDetections(t, s, { seed: 5 }))
    const same = orThrow(compareDetections(s, s))
    expect([same.better, same.worse, same.signP, same.deltaF1, same.bootstrapP]).toEqual([0, 0, 1, 0, 1])
    expect(same.interval).toEqual([0, 0])
  })
  it('a gain on every image is significant by both tests, and its interval excludes 0', () => {
    const base = setScore(Array.from({ length: 20 }, () => textdet.fromCounts(2, 1, 1)), 0.5)
    const tta = setScore(Array.from({ length: 20 }, () => textdet.fromCounts(3, 0, 0)), 0.5)
    const c = orThrow(compareDetections(tta, base))
    expect(c.signP).toBeLessThan(1e-5)
    expect(c.bootstrapP).toBe(1 / 10_000)
    expect(c.interval[0]).toBeGreaterThan(0)
  })
  it('refuses different image counts and out-of-range options', () => {
    const a = setScore([textdet.fromCounts(1, 0, 0)], 0.5)
    const b = setScore([], 0.5)
    expect(E.isLeft(compareDetections(a, b))).toBe(true)
    expect(E.isLeft(compareDetections(a, a, { resamples: 5 }))).toBe(true)
    expect(E.isLeft(compareDetections(a, a, { seed: 0.5 }))).toBe(true)
  })
})

describe('the truth file', () => {
  const message = (json: unknown): string => {
    const r = decodeDetectionTruth(json, 'truth.json')
    return E.isLeft(r) ? r.left.message : 'accepted'
  }
  it('reads the bundled text set: 80 images, 434 boxes of class 0', () => {
    const json: unknown = JSON.parse(readFileSync(new URL('../../assets/textdet/truth.json', import.meta.url), 'utf8'))
    const entries = orThrow(decodeDetectionTruth(json, 'assets/textdet/truth.json'))
    expect(entries.length).toBe(80)
    expect(entries.reduce((n, e) => n + e.boxes.length, 0)).toBe(434)
    expect(entries.every((e) => e.labels.every((l) => l === 0) && e.size !== undefined)).toBe(true)
  })
  it('accepts boxes with labels, and an image with no objects', () => {
    const r = orThrow(decodeDetectionTruth({ images: [{ file: 'a/b.png', boxes: [[1, 1, 3, 4]], labels: [2] }, { file: 'c.png', boxes: [] }], about: 'ignored' }, 't'))
    expect(r).toEqual([{ file: 'a/b.png', boxes: [[1, 1, 3, 4]], labels: [2] }, { file: 'c.png', boxes: [], labels: [] }])
  })
  it('refuses each malformed entry with a message naming the file, the image and the box', () => {
    expect(message([])).toMatch(/^truth\.json: expected .*\(a truth file is/)
    expect(message({ images: [{ boxes: [] }] })).toMatch(/^truth\.json: images\[0\]\.file: expected string/)
    expect(message({ images: [{ file: 'a.png' }] })).toBe('truth.json: images[0] (a.png): needs "boxes" (or the text set\'s "lines"), one of the two')
    expect(message({ images: [{ file: 'a.png', boxes: [], lines: [] }] })).toBe('truth.json: images[0] (a.png): needs "boxes" (or the text set\'s "lines"), one of the two')
    expect(message({ images: [{ file: 'a.png', boxes: [] }, { file: 'a.png', boxes: [] }] })).toBe('truth.json: images[1] (a.png): is listed twice')
    expect(message({ images: [{ file: '/etc/a.png', boxes: [] }] })).toBe('truth.json: images[0] (/etc/a.png): file must be a path inside the folder (relative, without ..)')
    expect(message({ images: [{ file: 'x/../../a.png', boxes: [] }] })).toMatch(/inside the folder/)
    expect(message({ images: [{ file: 'a.png', width: 10, boxes: [] }] })).toBe('truth.json: images[0] (a.png): give both width and height, or neither')
    expect(message({ images: [{ file: 'a.png', width: 10, height: 0, boxes: [] }] })).toBe('truth.json: images[0] (a.png): width and height must be positive whole numbers, got 10×0')
    expect(message({ images: [{ file: 'a.png', boxes: [[0, 0, 1]] }] })).toBe('truth.json: images[0] (a.png): box 0 must be [x1, y1, x2, y2] of finite numbers, got [0,0,1]')
    expect(message({ images: [{ file: 'a.png', boxes: [[5, 0, 1, 4]] }] })).toBe('truth.json: images[0] (a.png): box 0 [5, 0, 1, 4] has no area (boxes are [x1, y1, x2, y2] with x1 < x2 and y1 < y2)')
    expect(message({ images: [{ file: 'a.png', width: 8, height: 6, boxes: [[0, 0, 4, 4], [2, -1, 4, 4]] }] })).toBe('truth.json: images[0] (a.png): box 1 [2, -1, 4, 4] lies outside the 8×6 image')
    expect(message({ images: [{ file: 'a.png', boxes: [[0, 0, 4, 4]], labels: [0, 1] }] })).toBe('truth.json: images[0] (a.png): labels must be an array with one class per box (1)')
    expect(message({ images: [{ file: 'a.png', boxes: [[0, 0, 4, 4]], labels: [-1] }] })).toBe('truth.json: images[0] (a.png): label 0 must be a non-negative whole number, got -1')
    expect(message({ images: [{ file: 'a.png', lines: [{ box: [0, 0, 4, 4] }], labels: [0] }] })).toBe('truth.json: images[0] (a.png): labels go with "boxes", not with "lines"')
  })
  it('checks an entry against the image as read', () => {
    const entry = orThrow(decodeDetectionTruth({ images: [{ file: 'a.png', width: 8, height: 6, boxes: [[0, 0, 4, 4]] }] }, 't'))[0]
    if (entry === undefined) throw new Error('no entry')
    expect(checkTruthFits(entry, 8, 6)).toEqual(E.right(entry))
    expect(checkTruthFits(entry, 6, 8)).toEqual(E.left({ _tag: 'ParamError', message: 'the truth says 8×6, but the image is 6×8' }))
    const free = { file: 'b.png', boxes: [[0, 0, 9, 4]] as const, labels: [0] }
    expect(E.isLeft(checkTruthFits(free, 8, 6)) && E.isRight(checkTruthFits(free, 9, 6))).toBe(true)
  })
})
