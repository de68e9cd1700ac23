/**
 * Detections: what a detector predicts for one image (or one view of it) — boxes
 * `[x1, y1, x2, y2]`, one score and one integer label each. Unlike masks and labels they are
 * ragged: every image has its own number of boxes, so they travel as parallel lists, not tensors.
 *
 * Everything a model or a user hands in is checked by {@link checkDetections} before it is used:
 * the one rule set for boxes, shared by the detection wrapper, box fusion and the CLI.
 *
 * Rules (a violation is a `BoxError` naming the view, the box and the field):
 * - `boxes`, `scores` and `labels` have the same length; zero boxes is a valid answer;
 * - every coordinate is finite and `x1 ≤ x2`, `y1 ≤ y2` (a box of zero width or height is allowed
 *   here; fusion drops it, as ensemble-boxes does);
 * - every score is finite and within [0, 1];
 * - every label is a non-negative integer.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { boxError, type BoxError } from '../errors.js'
import { safeString } from '../guard/decode.js'

/** One box: its top-left `(x1, y1)` and bottom-right `(x2, y2)` corners. @category model */
export type Box = readonly [x1: number, y1: number, x2: number, y2: number]

/** The detections of one image or one view: parallel lists, one entry per box. @category model */
export interface Detections {
  readonly boxes: readonly Box[]
  readonly scores: readonly number[]
  readonly labels: readonly number[]
}

/**
 * What a detector's coordinates mean: pixels of the image it was given, or fractions of its width
 * and height (`normalized`, in [0, 1]).
 * @category model
 */
export type Coordinates = 'pixels' | 'normalized'

/**
 * No detections: the answer for an image where nothing was found.
 * @example
 * import { boxes } from 'tta-lens'
 * assert.deepStrictEqual(boxes.empty, { boxes: [], scores: [], labels: [] })
 * @category constructors
 */
export const empty: Detections = { boxes: [], scores: [], labels: [] }

const isArray = (value: unknown): value is readonly unknown[] => Array.isArray(value) || ArrayBuffer.isView(value)

const listOf = (value: unknown, key: 'boxes' | 'scores' | 'labels', where: string): E.Either<BoxError, readonly unknown[]> => {
  if (typeof value !== 'object' || value === null || !(key in value)) {
    return E.left(boxError(`${where}: detections need \`boxes\`, \`scores\` and \`labels\`; \`${key}\` is missing`))
  }
  const list: unknown = Object.entries(value).find(([k]) => k === key)?.[1]
  return isArray(list) ? E.right(Array.from(list)) : E.left(boxError(`${where}: \`${key}\` must be an array, got ${typeof list}`))
}

const cornerNames = ['x1', 'y1', 'x2', 'y2'] as const

/** JSON for a message, and never a throw: JSON.stringify throws on a bigint or a cycle (and a toJSON may throw). */
const json = (v: unknown): string => {
  try {
    return JSON.stringify(v) ?? String(v)
  } catch {
    return safeString(v)
  }
}

const showNumber = (v: unknown): string => (typeof v === 'number' ? String(v) : `${typeof v} ${json(v)}`)

/**
 * Checks detections that come from outside (a model's output, a JSON file, an untyped caller)
 * against the rules in this module's header, and returns them as plain arrays.
 * `where` names the source in the error (`view 'HorizontalFlip(true)'`, `truth.json image 3`).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxes } from 'tta-lens'
 * const ok = boxes.checkDetections({ boxes: [[1, 2, 5, 6]], scores: [0.9], labels: [0] }, 'view 0')
 * assert.ok(E.isRight(ok) && ok.right.boxes.length === 1)
 * const flipped = boxes.checkDetections({ boxes: [[5, 2, 1, 6]], scores: [0.9], labels: [0] }, 'view 0')
 * assert.ok(E.isLeft(flipped) && flipped.left._tag === 'BoxError')
 * assert.match(E.isLeft(flipped) ? flipped.left.message : '', /view 0: box 0 has x2 = 1 < x1 = 5/)
 * @category constructors
 */
export const checkDetections = (value: unknown, where: string): E.Either<BoxError, Detections> => {
  const lists = E.sequenceArray([listOf(value, 'boxes', where), listOf(value, 'scores', where), listOf(value, 'labels', where)])
  if (E.isLeft(lists)) return lists
  const [rawBoxes = [], rawScores = [], rawLabels = []] = lists.right
  if (rawBoxes.length !== rawScores.length || rawBoxes.length !== rawLabels.length) {
    return E.left(boxError(`${where}: ${rawBoxes.length} boxes, ${rawScores.length} scores and ${rawLabels.length} labels; each box needs one score and one label`))
  }
  const boxes: Box[] = []
  const scores: number[] = []
  const labels: number[] = []
  for (const [i, raw] of rawBoxes.entries()) {
    if (!isArray(raw) || raw.length !== 4) return E.left(boxError(`${where}: box ${i} must be [x1, y1, x2, y2], got ${json(raw)}`))
    const corners: number[] = []
    for (const [k, name] of cornerNames.entries()) {
      const v: unknown = raw[k]
      if (typeof v !== 'number' || !Number.isFinite(v)) return E.left(boxError(`${where}: box ${i} has ${name} = ${showNumber(v)}; coordinates must be finite numbers`))
      corners.push(v)
    }
    const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = corners
    if (x2 < x1) return E.left(boxError(`${where}: box ${i} has x2 = ${x2} < x1 = ${x1}; boxes are [x1, y1, x2, y2] with x1 ≤ x2`))
    if (y2 < y1) return E.left(boxError(`${where}: box ${i} has y2 = ${y2} < y1 = ${y1}; boxes are [x1, y1, x2, y2] with y1 ≤ y2`))
    const score = rawScores[i]
    if (typeof score !== 'number' || !Number.isFinite(score) || score < 0 || score > 1) {
      return E.left(boxError(`${where}: box ${i} has score ${showNumber(score)}; scores must be within [0, 1]`))
    }
    const label = rawLabels[i]
    if (typeof label !== 'number' || !Number.isSafeInteger(label) || label < 0) {
      return E.left(boxError(`${where}: box ${i} has label ${showNumber(label)}; labels must be non-negative integers`))
    }
    boxes.push([x1, y1, x2, y2])
    scores.push(score)
    labels.push(label)
  }
  return E.right({ boxes, scores, labels })
}
