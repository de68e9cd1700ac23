/**
 * Box fusion: the detections of several views of one image, merged into one answer — class-wise
 * NMS, soft-NMS (linear and gaussian), non-maximum weighted (NMW) and weighted boxes fusion (WBF)
 * with all four of ensemble-boxes' confidence rules, per-view weights, a skip threshold and the
 * overflow option. Pure and backend-free: the ragged counterpart of `merge`.
 *
 * At parity with ZFTurbo's ensemble-boxes (spec/boxes/parity.test.ts, docs/boxes.md), computed in
 * float64 throughout (ensemble-boxes rounds WBF's and NMW's fused boxes to float32), with these
 * rules where it prints a warning, exits or raises:
 *
 * - coordinates are normalised: fractions of the image's width and height. A box that sticks out of
 *   [0, 1] is clipped to it (detectors predict such boxes), and a box left with zero area — one
 *   lying outside the frame, or degenerate from the start — is dropped, as ensemble-boxes does.
 *   A coordinate outside [−1, 2] is a `BoxError`: no box of a normalised frame reaches a whole
 *   frame beyond its edges, and such values are nearly always pixels passed by mistake;
 * - every view goes through `checkDetections` (finite corners with x1 ≤ x2 and y1 ≤ y2, scores in
 *   [0, 1], non-negative integer labels, one score and label per box), so ensemble-boxes' silent
 *   corner swaps and its `exit()` on mismatched lengths become a `BoxError` naming the view and box;
 * - options go through `parseFusionOptions` (`ParamError`), and the weights must have one entry per
 *   view (ensemble-boxes ignores a wrong count with a warning);
 * - an empty view, all views empty and no views at all are valid: the answer is then empty
 *   (ensemble-boxes' nms and soft_nms raise when every view is empty);
 * - ties are broken by the boxes, not by the order of the views (see fusion-algorithms.ts), so the
 *   answer does not depend on the order of the views.
 *
 * Output order: nms and soft-nms list classes in ascending order and, within a class, the boxes in
 * the order they were kept; nmw and wbf list all boxes by score, highest first — both as
 * ensemble-boxes returns them.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { boxError, limitError, paramError, type TtaError } from '../errors.js'
import { limits } from '../guard/limits.js'
import { checkDetections, empty, type Detections } from './detections.js'
import { nms, nmw, softNms, wbf } from './fusion-algorithms.js'
import { parseFusionOptions, resolve, type FusionOptions } from './fusion-options.js'
import { flatFor, flatOf, tableOf, type Flat } from './fusion-table.js'

export {
  FusionOptionsCodec, confidenceRules, fusionDefaults, fusionMethods, parseFusionOptions,
  type ConfidenceRule, type FusionMethod, type FusionOptions,
} from './fusion-options.js'

/**
 * The range a normalised coordinate may take before fusion clips it to [0, 1]: one frame beyond
 * each edge. Outside it, `fuse` returns a `BoxError` (pixel coordinates passed by mistake).
 * @example
 * import { boxes } from 'tta-lens'
 * assert.deepStrictEqual(boxes.normalizedRange, [-1, 2])
 * @category constants
 */
export const normalizedRange: readonly [low: number, high: number] = [-1, 2]

const isEnumerableOwn = (value: object, key: string): boolean => Object.prototype.propertyIsEnumerable.call(value, key)

/**
 * The flat form of `views` when they pass every check of {@link checkViews} as they are: plain
 * arrays throughout, every rule of `checkDetections` and the normalised range met, and at most
 * `limits.maxBoxes` boxes. One pass that reads each value once — the numbers checked are the numbers
 * fused — and copies nothing but numbers. `undefined` for anything else (typed arrays, a bad box, a
 * missing list, too many boxes): `checkViews` then finds the first error and says what it is, or
 * copies what it accepts into plain arrays.
 */
const plainFlat = (views: unknown): Flat | undefined => {
  if (!Array.isArray(views)) return undefined
  const [low, high] = normalizedRange
  const given: readonly unknown[] = views
  // The lists of each view, read once.
  const lists: (readonly [readonly unknown[], readonly unknown[], readonly unknown[]])[] = []
  let total = 0
  for (let i = 0; i < given.length; i++) {
    const view = given[i]
    if (typeof view !== 'object' || view === null || !('boxes' in view) || !('scores' in view) || !('labels' in view)) return undefined
    // checkDetections reads own enumerable properties (Object.entries) only.
    if (!isEnumerableOwn(view, 'boxes') || !isEnumerableOwn(view, 'scores') || !isEnumerableOwn(view, 'labels')) return undefined
    const { boxes, scores, labels } = view
    if (!Array.isArray(boxes) || !Array.isArray(scores) || !Array.isArray(labels)) return undefined
    const bs: readonly unknown[] = boxes, ss: readonly unknown[] = scores, ls: readonly unknown[] = labels
    if (bs.length !== ss.length || bs.length !== ls.length) return undefined
    lists.push([bs, ss, ls])
    total += bs.length
  }
  if (total > limits.maxBoxes) return undefined
  const f = flatFor(lists.length, total)
  let k = 0
  for (let v = 0; v < lists.length; v++) {
    const [bs, ss, ls] = lists[v] ?? [[], [], []]
    for (let j = 0; j < bs.length; j++, k++) {
      const box = bs[j]
      if (!Array.isArray(box) || box.length !== 4) return undefined
      const corners: readonly unknown[] = box
      const x1 = corners[0], y1 = corners[1], x2 = corners[2], y2 = corners[3]
      // Within [low, high] also means finite.
      if (typeof x1 !== 'number' || !(x1 >= low && x1 <= high) || typeof y1 !== 'number' || !(y1 >= low && y1 <= high)) return undefined
      if (typeof x2 !== 'number' || !(x2 >= x1 && x2 <= high) || typeof y2 !== 'number' || !(y2 >= y1 && y2 <= high)) return undefined
      const score = ss[j], label = ls[j]
      if (typeof score !== 'number' || !(score >= 0 && score <= 1)) return undefined
      if (typeof label !== 'number' || !Number.isSafeInteger(label) || label < 0) return undefined
      f.corners[4 * k] = x1; f.corners[4 * k + 1] = y1; f.corners[4 * k + 2] = x2; f.corners[4 * k + 3] = y2
      f.scores[k] = score
      f.labels[k] = label
    }
    f.start[v + 1] = k
  }
  return f
}

const checkViews = (views: unknown): E.Either<TtaError, readonly Detections[]> => {
  if (!Array.isArray(views)) {
    return E.left(boxError(`fuse takes a list with the detections of each view ({ boxes, scores, labels }), got ${views === null ? 'null' : typeof views}`))
  }
  const list: readonly unknown[] = views
  const checked: Detections[] = []
  for (const [i, view] of list.entries()) {
    const where = `view ${i}`
    const c = checkDetections(view, where)
    if (E.isLeft(c)) return c
    const [low, high] = normalizedRange
    const list = c.right.boxes
    for (let j = 0; j < list.length; j++) {
      const box = list[j] ?? [0, 0, 0, 0]
      for (let k = 0; k < 4; k++) {
        const v = box[k] ?? 0
        if (v < low || v > high) {
          return E.left(boxError(
            `${where}: box ${j} has ${['x1', 'y1', 'x2', 'y2'][k] ?? 'a corner'} = ${v}; fusion takes normalised coordinates (fractions of the image's width and height: ` +
            `divide pixel boxes by them) and clips those within [${low}, ${high}] to [0, 1]`,
          ))
        }
      }
    }
    checked.push(c.right)
  }
  return E.right(checked)
}

/**
 * Fuses the detections of several views of ONE image (normalised [0, 1] coordinates, as
 * ensemble-boxes) with the method in `options`. Returns a `ParamError` for bad options (or weights
 * that are not one per view) and a `BoxError` for bad detections, never throws; an empty answer is
 * a valid answer. See the module header and docs/boxes.md for the rules.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxes } from 'tta-lens'
 * const views = [
 *   { boxes: [[0.1, 0.1, 0.5, 0.5]], scores: [0.9], labels: [0] },
 *   { boxes: [[0.12, 0.1, 0.52, 0.5], [0.6, 0.6, 0.9, 0.9]], scores: [0.7, 0.4], labels: [0, 1] },
 * ] as const
 * const fused = boxes.fuse(views, { method: 'wbf', iouThreshold: 0.55 })
 * assert.ok(E.isRight(fused))
 * const { boxes: b, scores, labels } = E.isRight(fused) ? fused.right : boxes.empty
 * assert.deepStrictEqual(labels, [0, 1])
 * assert.ok(Math.abs((b[0]?.[0] ?? 0) - (0.9 * 0.1 + 0.7 * 0.12) / 1.6) < 1e-12) // score-weighted mean
 * assert.ok(Math.abs((scores[0] ?? 0) - 0.8) < 1e-12)                            // avg: (0.9 + 0.7) / 2 · 2 / 2
 * assert.ok(Math.abs((scores[1] ?? 0) - 0.2) < 1e-12)                            // one of 2 views: 0.4 · 1 / 2
 *
 * const kept = boxes.fuse(views, { method: 'nms' })
 * assert.deepStrictEqual(E.isRight(kept) ? kept.right.scores : [], [0.9, 0.4])
 *
 * const wrong = boxes.fuse(views, { method: 'wbf', weights: [1] })
 * assert.ok(E.isLeft(wrong) && wrong.left._tag === 'ParamError')
 * @category combinators
 */
export const fuse = (views: readonly Detections[], options: FusionOptions): E.Either<TtaError, Detections> => {
  const parsed = parseFusionOptions(options)
  if (E.isLeft(parsed)) return parsed
  const o = resolve(parsed.right)
  let flat = plainFlat(views)
  if (flat === undefined) {
    const checked = checkViews(views)
    if (E.isLeft(checked)) return checked
    const list = checked.right
    const total = list.reduce((n, v) => n + v.boxes.length, 0)
    if (total > limits.maxBoxes) {
      return E.left(limitError('maxBoxes', total, limits.maxBoxes, `the views hold ${total.toLocaleString('en-US')} boxes; fusion takes at most ${limits.maxBoxes.toLocaleString('en-US')} at once`))
    }
    flat = flatOf(list)
  }
  const count = flat.views
  if (o.weights !== undefined && o.weights.length !== count) {
    return E.left(paramError(`weights has ${o.weights.length} entr${o.weights.length === 1 ? 'y' : 'ies'} for ${count} view${count === 1 ? '' : 's'}; give one weight per view`))
  }
  const table = tableOf(flat, o)
  if (table.size === 0) return E.right(empty)
  switch (o.method) {
    case 'nms':
      return E.right(nms(table, o.iouThreshold))
    case 'soft-nms':
      return E.right(softNms(table, o))
    case 'nmw':
      return E.right(nmw(table, o.iouThreshold))
    case 'wbf':
      return E.right(wbf(table, { ...o, viewWeights: o.weights ?? Array.from({ length: count }, () => 1) }))
  }
}
