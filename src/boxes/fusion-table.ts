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
const columns = (n: number): Omit<Table, 'size' | 'groups'> => {
  // Two allocations, not ten: the columns are views of one buffer per element type.
  const f = new Float64Array(8 * n), i = new Int32Array(2 * n)
  const at = (k: number): Float64Array => f.subarray(k * n, (k + 1) * n)
  return {
    x1: at(0), y1: at(1), x2: at(2), y2: at(3), area: at(4), score: at(5), weight: at(6), label: at(7),
    view: i.subarray(0, n), index: i.subarray(n, 2 * n),
  }
}

/**
 * Keys that carry a position in their low bits: for `n` positions (n < 2²⁹), `bits` with
 * `slots = 2^bits ≥ n`, and `scale` such that `q · slots + k` fits an Int32Array (below 2³¹) for
 * every integer `q ≤ scale` and `k < n`. A native sort of such keys (an Int32Array's numeric sort,
 * several times faster than a comparator or a Float64Array) orders positions by `q`, then by `k`;
 * `key & (slots − 1)` is the position and `key >> bits` is `q`.
 */
export const keySpace = (n: number): { readonly bits: number; readonly slots: number; readonly scale: number } => {
  let bits = Math.max(1, Math.ceil(Math.log2(Math.max(n, 2))))
  while (2 ** bits < n) bits++
  return { bits, slots: 2 ** bits, scale: 2 ** (30 - bits) }
}

type Columns = ReturnType<typeof columns>

/** The canonical order within a class: score descending, then coordinates, then larger weight, then view and index. */
const canonical = (c: Columns) => (a: number, b: number): number =>
  (c.score[b] ?? 0) - (c.score[a] ?? 0)
  || (c.x1[a] ?? 0) - (c.x1[b] ?? 0) || (c.y1[a] ?? 0) - (c.y1[b] ?? 0) || (c.x2[a] ?? 0) - (c.x2[b] ?? 0) || (c.y2[a] ?? 0) - (c.y2[b] ?? 0)
  || (c.weight[b] ?? 0) - (c.weight[a] ?? 0) || (c.view[a] ?? 0) - (c.view[b] ?? 0) || (c.index[a] ?? 0) - (c.index[b] ?? 0)

/** Sorts `items[from … to)` by `before`. */
const sortRange = (items: Int32Array, from: number, to: number, before: (a: number, b: number) => number): void => {
  if (to - from < 2) return
  items.set(Array.from(items.subarray(from, to)).sort(before), from)
}

/**
 * Sorts `items` in place by `before`, a total order whose first key is `score[item]` descending,
 * without calling `before` per pair: a native sort of keys holding a quantised score (monotone: a
 * higher score never gets a lower key) and the position orders them, and only items whose quantised
 * scores tie — equal scores, or nearly equal ones — are sorted with `before`. So the result is the
 * one permutation `before` defines.
 */
export const sortByScore = (items: Int32Array, score: Float64Array, before: (a: number, b: number) => number): void => {
  const size = items.length
  if (size < 2) return
  let top = 0
  let low = 0
  for (let a = 0; a < size; a++) {
    const v = score[items[a] ?? 0] ?? 0
    top = Math.max(top, v)
    low = Math.min(low, v)
  }
  if (!(top > 0 && top < Number.POSITIVE_INFINITY && low >= 0)) {
    // All scores 0 (or outside the keys' range): the comparator decides alone.
    sortRange(items, 0, size, before)
    return
  }
  const { bits, slots, scale } = keySpace(size)
  const keys = new Int32Array(size)
  // Descending score: the key grows as the score falls.
  for (let a = 0; a < size; a++) keys[a] = (scale - Math.floor(((score[items[a] ?? 0] ?? 0) / top) * scale)) * slots + a
  keys.sort()
  const given = items.slice()
  let runStart = 0
  let runQ = -1
  for (let a = 0; a < size; a++) {
    const key = keys[a] ?? 0
    const slot = key & (slots - 1)
    const q = key >> bits
    items[a] = given[slot] ?? 0
    if (q !== runQ) {
      sortRange(items, runStart, a, before)
      runStart = a
      runQ = q
    }
  }
  sortRange(items, runStart, size, before)
}

/**
 * The number of distinct labels among `label[0 … n)` and each box's class: the rank of its label
 * among them (−0 and 0 are one label). Small labels (the usual class ids) index a table directly;
 * others are found by binary search in the sorted distinct labels.
 */
const classesOf = (label: Float64Array, n: number): { readonly classes: number; readonly classOf: Int32Array } => {
  const classOf = new Int32Array(n)
  let most = 0
  for (let r = 0; r < n; r++) most = Math.max(most, label[r] ?? 0)
  if (most < 4 * n + 256) {
    const rank = new Int32Array(most + 1)
    for (let r = 0; r < n; r++) rank[label[r] ?? 0] = 1
    let classes = 0
    for (let l = 0; l <= most; l++) if (rank[l] === 1) rank[l] = ++classes
    for (let r = 0; r < n; r++) classOf[r] = (rank[label[r] ?? 0] ?? 1) - 1
    return { classes, classOf }
  }
  const sorted = label.slice(0, n).sort()
  const distinct: number[] = []
  for (const l of sorted) if (distinct.length === 0 || l !== distinct[distinct.length - 1]) distinct.push(l)
  for (let r = 0; r < n; r++) {
    const l = label[r] ?? 0
    let lo = 0, hi = distinct.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((distinct[mid] ?? 0) < l) lo = mid + 1
      else hi = mid
    }
    classOf[r] = lo
  }
  return { classes: distinct.length, classOf }
}

/**
 * The boxes `0 … n − 1` of `c` in table order: classes ascending (−0 and 0 are one class, as a Map
 * key would make them), each in canonical order. The order is total, so this is the permutation any
 * correct sort gives; it is found without calling a comparator per pair: the classes by a counting
 * sort, each class by {@link sortByScore}.
 */
const canonicalOrder = (c: Columns, n: number): Int32Array => {
  const before = canonical(c)
  // The classes: distinct labels, ascending, and each box's class.
  const { classes, classOf } = classesOf(c.label, n)
  const starts = new Int32Array(classes + 1)
  for (let r = 0; r < n; r++) {
    const k = classOf[r] ?? 0
    starts[k + 1] = (starts[k + 1] ?? 0) + 1
  }
  for (let k = 0; k < classes; k++) starts[k + 1] = (starts[k + 1] ?? 0) + (starts[k] ?? 0)
  const byClass = new Int32Array(n)
  const fill = starts.slice(0, classes)
  for (let r = 0; r < n; r++) {
    const k = classOf[r] ?? 0
    byClass[fill[k] ?? 0] = r
    fill[k] = (fill[k] ?? 0) + 1
  }
  for (let k = 0; k < classes; k++) sortByScore(byClass.subarray(starts[k] ?? 0, starts[k + 1] ?? 0), c.score, before)
  return byClass
}

/**
 * The numbers of checked views, read once (each box, score and label) into flat arrays: what
 * {@link tableOf} converts. View v holds boxes `[start[v], start[v + 1])`; box k's corners are
 * `corners[4k … 4k + 3]`.
 */
export interface Flat {
  readonly views: number
  readonly start: Int32Array
  readonly corners: Float64Array
  readonly scores: Float64Array
  readonly labels: Float64Array
}

/** Room for the given number of views and boxes. */
export const flatFor = (views: number, boxes: number): Flat => ({
  views, start: new Int32Array(views + 1), corners: new Float64Array(4 * boxes), scores: new Float64Array(boxes), labels: new Float64Array(boxes),
})

/** The flat form of detections already checked (`checkDetections` and the normalised range). */
export const flatOf = (list: readonly Detections[]): Flat => {
  let boxes = 0
  for (const d of list) boxes += d.boxes.length
  const f = flatFor(list.length, boxes)
  let k = 0
  for (let v = 0; v < list.length; v++) {
    const d = list[v]
    if (d !== undefined) {
      for (let j = 0; j < d.boxes.length; j++, k++) {
        const b = d.boxes[j]
        if (b !== undefined) f.corners.set(b, 4 * k)
        f.scores[k] = d.scores[j] ?? 0
        f.labels[k] = d.labels[j] ?? 0
      }
    }
    f.start[v + 1] = k
  }
  return f
}

/** How a method weights scores by view weights w (fusion-options.ts): s·w, s·(w / max w), s, s·w / Σw. */
const Weighting = { byWeight: 0, byHeaviest: 1, none: 2, byTotal: 3 } as const

/**
 * The table of checked views (in flat form): every box clipped to the unit square, zero-area boxes and (nmw, wbf)
 * boxes scored below `skipThreshold` dropped, scores weighted as the method says, sorted into
 * classes and canonical order.
 */
export const tableOf = (f: Flat, o: Resolved): Table => {
  const weights = o.weights ?? Array.from({ length: f.views }, () => 1)
  const total = sortedSum(weights)
  const heaviest = Math.max(...weights)
  const skip = o.method === 'wbf' || o.method === 'nmw' ? o.skipThreshold : Number.NEGATIVE_INFINITY
  // In view order first; sorted into `sorted` below.
  const raw = columns(f.scores.length)
  // How scores are weighted, decided once (the loop below runs once per box).
  const weighting = o.method === 'wbf' ? Weighting.byWeight : o.method === 'nmw' ? Weighting.byHeaviest : o.weights === undefined ? Weighting.none : Weighting.byTotal
  const { start, corners, scores, labels } = f
  let n = 0
  for (let view = 0; view < f.views; view++) {
    const w = weights[view] ?? 1
    for (let k = start[view] ?? 0, end = start[view + 1] ?? 0; k < end; k++) {
      const s = scores[k] ?? 0
      if (s < skip) continue
      const x1 = clip(corners[4 * k] ?? 0), y1 = clip(corners[4 * k + 1] ?? 0), x2 = clip(corners[4 * k + 2] ?? 0), y2 = clip(corners[4 * k + 3] ?? 0)
      const area = (x2 - x1) * (y2 - y1)
      if (area === 0) continue
      raw.x1[n] = x1; raw.y1[n] = y1; raw.x2[n] = x2; raw.y2[n] = y2; raw.area[n] = area
      raw.score[n] = weighting === Weighting.byWeight ? s * w
        : weighting === Weighting.byHeaviest ? s * (w / heaviest)
          : weighting === Weighting.none ? s : (s * w) / total
      raw.weight[n] = w
      raw.view[n] = view
      raw.index[n] = k - (start[view] ?? 0)
      raw.label[n] = labels[k] ?? 0
      n++
    }
  }
  const order = canonicalOrder(raw, n)
  const sorted = columns(n)
  const starts: number[] = []
  // `k` is the p-th box in canonical order.
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
