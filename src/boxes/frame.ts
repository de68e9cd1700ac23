/**
 * Fusion in an image's own frame: the views' detections, already mapped back into the image (in
 * its pixels, or normalised), fused as `fuse` does on fractions of the frame, returned in the same
 * coordinates, and — as the last step of a detector's output — cut at a minimum score.
 *
 * This is the detection wrapper's last step, as a function of cached per-view detections: a
 * policy search or an evaluation that keeps each view's mapped-back boxes (the wrapper's
 * `keepViews`) can try fusions and thresholds without running the model again, and gets exactly
 * what the wrapper would have returned.
 *
 * Why a minimum score: fusion keeps a box that a single view found, with a score that says how
 * many views agreed (weighted boxes fusion's `avg` rule scales it by the share of views that found
 * it). A detector's answer is the boxes above an operating point; without one, every box any view
 * found stays, and more views only add false positives. `minScore` is that operating point, applied
 * to the fused scores (0, the default, keeps everything, as ensemble-boxes returns it).
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { boxError, paramError, type TtaError } from '../errors.js'
import { safeString } from '../guard/decode.js'
import { checkDetections, type Box, type Coordinates, type Detections } from './detections.js'
import { fuse } from './fusion.js'
import type { FusionOptions } from './fusion-options.js'

/** The frame the detections are in: the image's size and whether they are pixels of it or fractions. @category model */
export interface Frame {
  readonly height: number
  readonly width: number
  /** Default `'pixels'`. */
  readonly coordinates?: Coordinates
}

/** What {@link fuseInFrame} does besides the frame. @category model */
export interface FrameFusion {
  /** Default weighted boxes fusion with ensemble-boxes' defaults (`{ method: 'wbf' }`). */
  readonly fusion?: FusionOptions
  /** Fused boxes scoring below this are dropped; in [0, 1], default 0 (keep all). */
  readonly minScore?: number
}

const scaled = (d: Detections, sx: number, sy: number): Detections =>
  ({ ...d, boxes: d.boxes.map(([x1, y1, x2, y2]): Box => [x1 * sx, y1 * sy, x2 * sx, y2 * sy]) })

/**
 * Checks a minimum fused score from outside (a flag, a config, an untyped caller): a number in [0, 1].
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxes } from 'tta-lens'
 * assert.deepStrictEqual(boxes.checkMinScore(0.3), E.right(0.3))
 * assert.ok(E.isLeft(boxes.checkMinScore(1.5)))
 * @category constructors
 */
export const checkMinScore = (value: unknown): E.Either<TtaError, number> =>
  typeof value === 'number' && value >= 0 && value <= 1
    ? E.right(value)
    : E.left(paramError(`minScore must be a number in [0, 1] (fused boxes scoring below it are dropped), got ${safeString(value)}`))

/**
 * Keeps the detections scoring at least `minScore`, in their order.
 * @example
 * import { boxes } from 'tta-lens'
 * const found = { boxes: [[0, 0, 1, 1], [2, 2, 3, 3]] as const, scores: [0.9, 0.2], labels: [0, 0] }
 * assert.deepStrictEqual(boxes.keepScoring(found, 0.5), { boxes: [[0, 0, 1, 1]], scores: [0.9], labels: [0] })
 * @category combinators
 */
export const keepScoring = (detections: Detections, minScore: number): Detections => {
  if (minScore <= 0) return detections
  const keep = detections.scores.flatMap((s, i) => (s >= minScore ? [i] : []))
  return {
    boxes: keep.map((i) => detections.boxes[i] ?? [0, 0, 0, 0]),
    scores: keep.map((i) => detections.scores[i] ?? 0),
    labels: keep.map((i) => detections.labels[i] ?? 0),
  }
}

/**
 * Fuses the views' detections of one image, given in the image's own frame (pixels by default),
 * and returns the fused boxes in the same frame, without those scoring under `minScore`. Pixel
 * boxes are divided by the frame's size for `fuse` (which works on fractions of the image, as
 * ensemble-boxes) and multiplied back. Errors as `fuse`'s, plus a `ParamError` for a frame or
 * `minScore` out of range.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxes } from 'tta-lens'
 * // two views of a 100×200 image: both found the left box, one also a faint right one
 * const views = [
 *   { boxes: [[10, 10, 50, 40]], scores: [0.9], labels: [0] },
 *   { boxes: [[12, 10, 52, 40], [150, 60, 190, 90]], scores: [0.7, 0.7], labels: [0, 0] },
 * ] as const
 * const all = boxes.fuseInFrame(views, { height: 100, width: 200 }, { fusion: { method: 'wbf' } })
 * assert.ok(E.isRight(all) && all.right.boxes.length === 2)
 * assert.ok(E.isRight(all) && Math.abs((all.right.boxes[0]?.[0] ?? 0) - (0.9 * 10 + 0.7 * 12) / 1.6) < 1e-9)
 * // the box one view of two found scores 0.7 · 1/2: a minimum score of 0.5 keeps what both found
 * const agreed = boxes.fuseInFrame(views, { height: 100, width: 200 }, { fusion: { method: 'wbf' }, minScore: 0.5 })
 * assert.ok(E.isRight(agreed) && agreed.right.boxes.length === 1)
 * @category combinators
 */
export const fuseInFrame = (views: readonly Detections[], frame: Frame, options: FrameFusion = {}): E.Either<TtaError, Detections> => {
  const { height, width } = frame
  if (!(Number.isFinite(height) && height > 0 && Number.isFinite(width) && width > 0)) {
    return E.left(paramError(`the frame must have a positive height and width, got ${safeString(height)}×${safeString(width)}`))
  }
  const coordinates: unknown = frame.coordinates ?? 'pixels'
  if (coordinates !== 'pixels' && coordinates !== 'normalized') return E.left(paramError(`coordinates must be 'pixels' or 'normalized', got ${safeString(coordinates)}`))
  const minScore = checkMinScore(options.minScore ?? 0)
  if (E.isLeft(minScore)) return minScore
  const fusion = options.fusion ?? { method: 'wbf' }
  const given: unknown = views
  // Not a list: `fuse` says what it takes.
  if (!Array.isArray(given) || coordinates === 'normalized') return E.Functor.map(fuse(views, fusion), (d) => keepScoring(d, minScore.right))
  // Pixel boxes are checked in pixels, so that a message speaks of the numbers the caller gave.
  const list: readonly unknown[] = given
  const fractions: Detections[] = []
  for (const [i, view] of list.entries()) {
    const checked = checkDetections(view, `view ${i}`)
    if (E.isLeft(checked)) return checked
    const far = checked.right.boxes.findIndex(([x1, y1, x2, y2]) => x1 < -width || x2 > 2 * width || y1 < -height || y2 > 2 * height)
    const box = checked.right.boxes[far]
    if (box !== undefined) return E.left(boxError(`view ${i}: box ${far} [${box.join(', ')}] lies more than a whole frame outside the ${width}×${height} image`))
    fractions.push(scaled(checked.right, 1 / width, 1 / height))
  }
  return E.Functor.map(fuse(fractions, fusion), (d) => keepScoring(scaled(d, width, height), minScore.right))
}
