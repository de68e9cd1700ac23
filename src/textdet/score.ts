/**
 * Scoring text detection: box precision / recall / F1 at an IoU threshold with greedy one-to-one
 * matching (the ICDAR-style count), and pixel IoU of two masks.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, type ShapeError } from '../errors.js'
import type { Box } from './postprocess.js'

/** Counts and rates of one image or of a whole set (counts summed, rates recomputed). @category model */
export interface BoxScore {
  /** Predictions matched to a ground-truth box. */
  readonly tp: number
  /** Predictions matched to nothing. */
  readonly fp: number
  /** Ground-truth boxes matched to nothing. */
  readonly fn: number
  /** `tp / (tp + fp)`; 1 when nothing was predicted. */
  readonly precision: number
  /** `tp / (tp + fn)`; 1 when there is nothing to find. */
  readonly recall: number
  /** Harmonic mean of precision and recall; 0 when both are 0. */
  readonly f1: number
}

/**
 * Intersection over union of two boxes (`x1`, `y1` exclusive); 0 when either is empty.
 * @example
 * import { textdet } from 'tta-lens'
 * assert.strictEqual(textdet.boxIoU([0, 0, 4, 2], [2, 0, 6, 2]), 4 / 12)
 * assert.strictEqual(textdet.boxIoU([0, 0, 1, 1], [1, 1, 2, 2]), 0)
 * @category utils
 */
export const boxIoU = (a: Box, b: Box): number => {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0])
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1])
  if (iw <= 0 || ih <= 0) return 0
  const inter = iw * ih
  const area = (r: Box): number => Math.max(0, r[2] - r[0]) * Math.max(0, r[3] - r[1])
  return inter / (area(a) + area(b) - inter)
}

/**
 * Rates from counts, with the conventions of {@link BoxScore}.
 * @example
 * import { textdet } from 'tta-lens'
 * const s = textdet.fromCounts(3, 1, 2)
 * assert.deepStrictEqual([s.precision, s.recall], [0.75, 0.6])
 * assert.ok(Math.abs(s.f1 - 2 / 3) < 1e-12)
 * assert.deepStrictEqual(textdet.fromCounts(0, 0, 0), { tp: 0, fp: 0, fn: 0, precision: 1, recall: 1, f1: 1 })
 * @category constructors
 */
export const fromCounts = (tp: number, fp: number, fn: number): BoxScore => {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp)
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn)
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall)
  return { tp, fp, fn, precision, recall, f1 }
}

/** A match of a predicted box with a truth box, by their positions in the two lists. @category model */
export interface BoxMatch {
  readonly predicted: number
  readonly truth: number
  readonly iou: number
}

/**
 * Matches predicted boxes to ground truth one to one: every (prediction, truth) pair with IoU
 * `>= iou` is a candidate; candidates are taken greedily in order of decreasing IoU (ties: lower
 * prediction index, then lower truth index), each prediction and each truth box matched at most
 * once. The matches are the true positives; what is left over are false positives (predictions)
 * and misses (truth). {@link scoreBoxes} counts them; a picture of them draws each kind.
 * @example
 * import { textdet } from 'tta-lens'
 * const m = textdet.matchBoxes([[0, 0, 10, 2], [20, 20, 30, 30]], [[0, 0, 10, 3], [0, 5, 10, 7]])
 * assert.deepStrictEqual(m.matches.map((x) => [x.predicted, x.truth]), [[0, 0]])
 * assert.deepStrictEqual([m.unmatchedPredicted, m.unmatchedTruth], [[1], [1]])
 * @category destructors
 */
export const matchBoxes = (pred: readonly Box[], truth: readonly Box[], iou = 0.5): {
  readonly matches: readonly BoxMatch[]
  readonly unmatchedPredicted: readonly number[]
  readonly unmatchedTruth: readonly number[]
} => {
  const candidates: BoxMatch[] = []
  pred.forEach((pb, p) => truth.forEach((tb, t) => {
    const v = boxIoU(pb, tb)
    if (v >= iou && v > 0) candidates.push({ predicted: p, truth: t, iou: v })
  }))
  candidates.sort((a, b) => b.iou - a.iou || a.predicted - b.predicted || a.truth - b.truth)
  const usedPred = new Set<number>()
  const usedTruth = new Set<number>()
  const matches: BoxMatch[] = []
  for (const c of candidates) {
    if (usedPred.has(c.predicted) || usedTruth.has(c.truth)) continue
    usedPred.add(c.predicted)
    usedTruth.add(c.truth)
    matches.push(c)
  }
  return {
    matches,
    unmatchedPredicted: pred.flatMap((_, p) => (usedPred.has(p) ? [] : [p])),
    unmatchedTruth: truth.flatMap((_, t) => (usedTruth.has(t) ? [] : [t])),
  }
}

/**
 * Scores predicted boxes against ground truth: the matches of {@link matchBoxes} are true
 * positives, unmatched predictions false positives, unmatched truths false negatives.
 * @example
 * import { textdet } from 'tta-lens'
 * const truth: readonly textdet.Box[] = [[0, 0, 10, 2], [0, 5, 10, 7]]
 * // one good box, one box split in two halves (IoU 0.5 each: only one may match), one stray box
 * const pred: readonly textdet.Box[] = [[0, 0, 10, 2], [0, 5, 5, 7], [5, 5, 10, 7], [20, 20, 30, 30]]
 * const s = textdet.scoreBoxes(pred, truth)
 * assert.deepStrictEqual([s.tp, s.fp, s.fn], [2, 2, 0])
 * assert.deepStrictEqual([s.precision, s.recall], [0.5, 1])
 * assert.strictEqual(textdet.scoreBoxes(pred, truth, 0.6).tp, 1)
 * @category destructors
 */
export const scoreBoxes = (pred: readonly Box[], truth: readonly Box[], iou = 0.5): BoxScore => {
  const tp = matchBoxes(pred, truth, iou).matches.length
  return fromCounts(tp, pred.length - tp, truth.length - tp)
}

/**
 * Sums the counts of several scores and recomputes the rates (micro average over images).
 * @example
 * import { textdet } from 'tta-lens'
 * const total = textdet.addScores([textdet.fromCounts(1, 0, 1), textdet.fromCounts(2, 1, 0)])
 * assert.deepStrictEqual([total.tp, total.fp, total.fn], [3, 1, 1])
 * @category combinators
 */
export const addScores = (scores: readonly BoxScore[]): BoxScore =>
  fromCounts(
    scores.reduce((a, s) => a + s.tp, 0),
    scores.reduce((a, s) => a + s.fp, 0),
    scores.reduce((a, s) => a + s.fn, 0),
  )

/**
 * Intersection over union of two 0/1 masks of the same size (non-zero is 1); 1 when both are empty.
 * Use `boxMask` for a mask of boxes (the ground truth's, or the predicted boxes').
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { textdet } from 'tta-lens'
 * const v = textdet.pixelIoU(new Uint8Array([1, 1, 0, 0]), new Uint8Array([0, 1, 1, 0]))
 * assert.ok(E.isRight(v) && v.right === 1 / 3)
 * assert.ok(E.isLeft(textdet.pixelIoU(new Uint8Array(3), new Uint8Array(4))))
 * @category destructors
 */
export const pixelIoU = (pred: Uint8Array, truth: Uint8Array): E.Either<ShapeError, number> => {
  if (pred.length !== truth.length) return E.left(shapeError(`masks differ in size: ${pred.length} and ${truth.length} pixels`))
  let inter = 0
  let union = 0
  for (let i = 0; i < pred.length; i++) {
    const a = pred[i] !== 0
    const b = truth[i] !== 0
    if (a && b) inter++
    if (a || b) union++
  }
  return E.right(union === 0 ? 1 : inter / union)
}
