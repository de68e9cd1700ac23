/**
 * The boxes of one fusion as columns (internal to fusion: `fuse` builds it, the algorithms in
 * fusion-algorithms.ts read it). Every box fusion keeps — clipped to the unit square, zero-area and
 * skipped boxes dropped, its score weighted — is one position in a set of typed arrays, one per
 * field, so the loops of the algorithms read numbers, not objects, and a call allocates a dozen
 * arrays instead of an object per box.
 *
 * Positions are grouped by class (classes ascending) and, within a class, in the canonical order:
 * (weighted) score descending, then smaller x1, y1, x2, y2, then larger view weight, then view and
 * index in the view (which separates exact duplicates alone). A box's rank in its class is its
 * position minus the class's start. See fusion-algorithms.ts for why ties are broken this way.
 *
 * @since 0.3.0
 */
import type { Detections } from './detections.js'
import type { Resolved } from './fusion-options.js'

export interface Table {
  /** The number of boxes. */
  readonly size: number
  readonly x1: Float64Array
  readonly y1: Float64Array
  readonly x2: Float64Array
  readonly y2: Float64Array
  /** `(x2 − x1) · (y2 − y1)`, computed once. */
  readonly area: Float64Array
  /** The score after view weighting (what the methods rank and average). */
  readonly score: Float64Array
  /** The view's weight (1 without weights). */
  readonly weight: Float64Array
  readonly view: Int32Array
  /** Position of the box in its view. */
  readonly index: Int32Array
  /** Labels as given (non-negative safe integers, which need more than 32 bits). */
  readonly label: Float64Array
  /** Class g holds positions `[groups[g], groups[g + 1])`; `groups.length` is the number of classes + 1. */
  readonly groups: Int32Array
}

/** Sum in ascending order, so that any permutation of `values` gives the same float. */
export const sortedSum = (values: readonly number[]): number => [...values].sort((a, b) => a - b).reduce((s, v) => s + v, 0)

const clip = (v: number): number => Math.min(Math.max(v, 0), 1)

/** Columns for `n` boxes. */
const columns = (n: number): Omit<Table, 'size' | 'groups'> => ({
  x1: new Float64Array(n), y1: new Float64Array(n), x2: new Float64Array(n), y2: new Float64Array(n), area: new Float64Array(n),
  score: new Float64Array(n), weight: new Float64Array(n), view: new Int32Array(n), index: new Int32Array(n), label: new Float64Array(n),
})

/**
 * The table of checked views: every box clipped to the unit square, zero-area boxes and (nmw, wbf)
 * boxes scored below `skipThreshold` dropped, scores weighted as the method says, sorted into
 * classes and canonical order.
 */
export const tableOf = (views: readonly Detections[], o: Resolved): Table => {
  const weights = o.weights ?? views.map(() => 1)
  const total = sortedSum(weights)
  const heaviest = Math.max(...weights)
  const skip = o.method === 'wbf' || o.method === 'nmw' ? o.skipThreshold : Number.NEGATIVE_INFINITY
  let count = 0
  for (const d of views) count += d.boxes.length
  // In view order first; sorted into `sorted` below.
  const raw = columns(count)
  let n = 0
  for (let view = 0; view < views.length; view++) {
    const d = views[view]
    if (d === undefined) continue
    const w = weights[view] ?? 1
    for (let index = 0; index < d.boxes.length; index++) {
      const s = d.scores[index] ?? 0
      if (s < skip) continue
      const b = d.boxes[index]
      if (b === undefined) continue
      const x1 = clip(b[0]), y1 = clip(b[1]), x2 = clip(b[2]), y2 = clip(b[3])
      const area = (x2 - x1) * (y2 - y1)
      if (area === 0) continue
      raw.x1[n] = x1; raw.y1[n] = y1; raw.x2[n] = x2; raw.y2[n] = y2; raw.area[n] = area
      raw.score[n] = o.method === 'wbf' ? s * w
        : o.method === 'nmw' ? s * (w / heaviest)
          : o.weights === undefined ? s : (s * w) / total
      raw.weight[n] = w
      raw.view[n] = view
      raw.index[n] = index
      raw.label[n] = d.labels[index] ?? 0
      n++
    }
  }
  // Class ascending, then the canonical order; a total order, so any sort gives the same permutation.
  const { label: L, score: S, x1: X1, y1: Y1, x2: X2, y2: Y2, weight: W, view: V, index: I } = raw
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) =>
    (L[a] ?? 0) - (L[b] ?? 0) || (S[b] ?? 0) - (S[a] ?? 0)
    || (X1[a] ?? 0) - (X1[b] ?? 0) || (Y1[a] ?? 0) - (Y1[b] ?? 0) || (X2[a] ?? 0) - (X2[b] ?? 0) || (Y2[a] ?? 0) - (Y2[b] ?? 0)
    || (W[b] ?? 0) - (W[a] ?? 0) || (V[a] ?? 0) - (V[b] ?? 0) || (I[a] ?? 0) - (I[b] ?? 0))
  const sorted = columns(n)
  const starts: number[] = []
  for (let p = 0; p < n; p++) {
    const k = order[p] ?? 0
    sorted.x1[p] = raw.x1[k] ?? 0; sorted.y1[p] = raw.y1[k] ?? 0; sorted.x2[p] = raw.x2[k] ?? 0; sorted.y2[p] = raw.y2[k] ?? 0
    sorted.area[p] = raw.area[k] ?? 0; sorted.score[p] = raw.score[k] ?? 0; sorted.weight[p] = raw.weight[k] ?? 0
    sorted.view[p] = raw.view[k] ?? 0; sorted.index[p] = raw.index[k] ?? 0; sorted.label[p] = raw.label[k] ?? 0
    // −0 and 0 are one class (as a Map key would make them); each box keeps the label it came with.
    if (p === 0 || sorted.label[p] !== sorted.label[p - 1]) starts.push(p)
  }
  starts.push(n)
  return { size: n, ...sorted, groups: Int32Array.from(starts) }
}
