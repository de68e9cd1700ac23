/**
 * Scoring detections on a set of images against ground truth, and comparing two ways of detecting
 * (a TTA policy against no TTA, or against the best single view) on the same images: precision,
 * recall and F1 at an IoU threshold (greedy one-to-one matching, counts summed over the set), the
 * images each one does better or worse on with an exact sign test, and a paired bootstrap of the
 * difference in F1.
 *
 * Why both tests: the sign test asks whether the images that changed changed more often for the
 * better (it ignores by how much, and the images that did not change); the paired bootstrap
 * resamples whole images, so it asks whether the set's F1 difference would survive another draw of
 * images like these. They can disagree when a few images change a lot.
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, type ParamError } from '../errors.js'
import { safeString } from '../guard/decode.js'
import { addScores, fromCounts, scoreBoxes, type BoxScore } from '../textdet/score.js'
import type { Box } from '../textdet/postprocess.js'
import { mcnemar } from './stats.js'
import { mulberry32 } from './random.js'

/** The score of one way of detecting on a set: every image's, and the counts summed. @category model */
export interface DetectionSetScore {
  /** Counts summed over the images, rates recomputed (micro average). */
  readonly total: BoxScore
  /** One score per image, in the set's order. */
  readonly perImage: readonly BoxScore[]
  /** The IoU a predicted box needs with a truth box to match it. */
  readonly iou: number
}

/**
 * Scores predicted boxes against truth boxes, image by image (`scoreBoxes`: every pair with
 * IoU ≥ `iou` is a candidate, matched greedily by IoU, one to one), and sums the counts.
 * A `ParamError` when the lists differ in length or `iou` is not in (0, 1].
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { scoreDetections } from 'tta-lens'
 * const truth = [[[0, 0, 10, 10]], [[0, 0, 4, 4], [5, 5, 9, 9]]] as const
 * const found = [[[0, 0, 10, 9]], [[0, 0, 4, 4], [20, 20, 30, 30]]] as const
 * const s = scoreDetections(found, truth, 0.5)
 * assert.ok(E.isRight(s))
 * assert.deepStrictEqual([s.right.total.tp, s.right.total.fp, s.right.total.fn], [2, 1, 1])
 * assert.deepStrictEqual(s.right.perImage.map((x) => x.f1), [1, 0.5])
 * assert.ok(E.isLeft(scoreDetections(found, truth.slice(0, 1), 0.5)))
 * @category destructors
 */
export const scoreDetections = (
  predicted: readonly (readonly Box[])[],
  truth: readonly (readonly Box[])[],
  iou = 0.5,
): E.Either<ParamError, DetectionSetScore> => {
  if (!(typeof iou === 'number' && iou > 0 && iou <= 1)) return E.left(paramError(`the IoU threshold must be in (0, 1], got ${safeString(iou)}`))
  if (predicted.length !== truth.length) return E.left(paramError(`${predicted.length} images of predictions for ${truth.length} images of truth`))
  const perImage = predicted.map((p, i) => scoreBoxes(p, truth[i] ?? [], iou))
  return E.right({ total: addScores(perImage), perImage, iou })
}

/** Boxes with their classes: a prediction or the truth of one image. @category model */
export interface LabelledBoxes {
  readonly boxes: readonly Box[]
  readonly labels: readonly number[]
}

/**
 * Scores one image class by class: a predicted box can match only a truth box of its own class
 * (greedy one to one at IoU ≥ `iou` within each class), and the counts of all classes are summed.
 * @example
 * import { scoreLabelled } from 'tta-lens'
 * const truth = { boxes: [[0, 0, 10, 10], [20, 0, 30, 10]] as const, labels: [0, 1] }
 * const found = { boxes: [[0, 0, 10, 10], [20, 0, 30, 10]] as const, labels: [0, 0] }   // the second has the wrong class
 * const s = scoreLabelled(found, truth)
 * assert.deepStrictEqual([s.tp, s.fp, s.fn], [1, 1, 1])
 * @category destructors
 */
export const scoreLabelled = (predicted: LabelledBoxes, truth: LabelledBoxes, iou = 0.5): BoxScore => {
  const classes = new Set([...predicted.labels, ...truth.labels])
  const of = (set: LabelledBoxes, label: number): readonly Box[] => set.boxes.filter((_, i) => (set.labels[i] ?? 0) === label)
  return addScores([...classes].map((label) => scoreBoxes(of(predicted, label), of(truth, label), iou)))
}

/**
 * A set's score from per-image scores already computed (by {@link scoreLabelled}, say).
 * @example
 * import { setScore, textdet } from 'tta-lens'
 * const s = setScore([textdet.fromCounts(1, 0, 0), textdet.fromCounts(0, 1, 1)], 0.5)
 * assert.deepStrictEqual([s.total.tp, s.total.fp, s.total.fn], [1, 1, 1])
 * @category constructors
 */
export const setScore = (perImage: readonly BoxScore[], iou: number): DetectionSetScore => ({ total: addScores(perImage), perImage, iou })

/** How a candidate compares with a baseline on the same images. @category model */
export interface DetectionComparison {
  /** Images whose F1 rose, fell, or stayed the same. */
  readonly better: number
  readonly worse: number
  readonly same: number
  /** Exact two-sided sign test of better against worse (ties left out). */
  readonly signP: number
  /** Candidate F1 − baseline F1, both over the whole set (micro). */
  readonly deltaF1: number
  /** 95% interval of `deltaF1` from the paired bootstrap (images resampled with replacement). */
  readonly interval: readonly [low: number, high: number]
  /** Two-sided bootstrap p: twice the smaller share of resamples on either side of 0 (at least 1 / resamples). */
  readonly bootstrapP: number
  readonly resamples: number
}

/** Options of {@link compareDetections}. @category model */
export interface CompareOptions {
  /** Bootstrap resamples; default 10,000. */
  readonly resamples?: number
  /** Seed of the resampling (mulberry32), so a table is reproducible; default 1. */
  readonly seed?: number
}


const quantile = (sorted: Float64Array, q: number): number => {
  const pos = q * (sorted.length - 1)
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return (sorted[lo] ?? Number.NaN) + ((sorted[hi] ?? Number.NaN) - (sorted[lo] ?? Number.NaN)) * (pos - lo)
}

/**
 * Compares a candidate's scores with a baseline's on the same images: images better / worse /
 * the same by F1 with an exact sign test, and the difference in set F1 with a paired bootstrap
 * (95% percentile interval and a two-sided p). A `ParamError` when the two were scored on
 * different numbers of images or the options are out of range.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { compareDetections, scoreDetections } from 'tta-lens'
 * const truth = Array.from({ length: 12 }, () => [[0, 0, 10, 10]] as const)
 * const base = E.getOrElseW(() => undefined)(scoreDetections(truth.map((t, i) => (i < 6 ? t : [])), truth))
 * const tta = E.getOrElseW(() => undefined)(scoreDetections(truth, truth))
 * const c = base && tta ? compareDetections(tta, base, { resamples: 2000 }) : undefined
 * assert.ok(c !== undefined && E.isRight(c))
 * assert.deepStrictEqual([c.right.better, c.right.worse, c.right.same], [6, 0, 6])
 * assert.ok(Math.abs(c.right.signP - 2 / 64) < 1e-12)            // 6 of 6 changed images better
 * assert.ok(c.right.deltaF1 > 0.3 && c.right.interval[0] > 0)   // every resample favours it
 * @category combinators
 */
export const compareDetections = (
  candidate: DetectionSetScore,
  baseline: DetectionSetScore,
  options: CompareOptions = {},
): E.Either<ParamError, DetectionComparison> => {
  const n = candidate.perImage.length
  if (baseline.perImage.length !== n) return E.left(paramError(`the candidate was scored on ${n} images and the baseline on ${baseline.perImage.length}`))
  const resamples = options.resamples ?? 10_000
  if (!Number.isInteger(resamples) || resamples < 100 || resamples > 1_000_000) {
    return E.left(paramError(`resamples must be a whole number from 100 to 1,000,000, got ${safeString(resamples)}`))
  }
  const seed = options.seed ?? 1
  if (!Number.isSafeInteger(seed)) return E.left(paramError(`seed must be an integer, got ${safeString(seed)}`))
  let better = 0
  let worse = 0
  for (let i = 0; i < n; i++) {
    const a = candidate.perImage[i]?.f1 ?? 0
    const b = baseline.perImage[i]?.f1 ?? 0
    if (a > b) better++
    else if (a < b) worse++
  }
  const deltaF1 = candidate.total.f1 - baseline.total.f1
  const diffs = new Float64Array(resamples)
  const random = mulberry32(seed)
  for (let r = 0; r < resamples; r++) {
    let ctp = 0, cfp = 0, cfn = 0, btp = 0, bfp = 0, bfn = 0
    for (let k = 0; k < n; k++) {
      const i = Math.floor(random() * n)
      const c = candidate.perImage[i]
      const b = baseline.perImage[i]
      if (c === undefined || b === undefined) continue
      ctp += c.tp; cfp += c.fp; cfn += c.fn
      btp += b.tp; bfp += b.fp; bfn += b.fn
    }
    diffs[r] = fromCounts(ctp, cfp, cfn).f1 - fromCounts(btp, bfp, bfn).f1
  }
  diffs.sort()
  let below = 0
  let above = 0
  for (const d of diffs) {
    if (d <= 0) below++
    if (d >= 0) above++
  }
  const bootstrapP = Math.min(1, Math.max(1 / resamples, (2 * Math.min(below, above)) / resamples))
  return E.right({
    better, worse, same: n - better - worse, signP: mcnemar(better, worse), deltaF1,
    interval: [quantile(diffs, 0.025), quantile(diffs, 0.975)], bootstrapP, resamples,
  })
}
