/**
 * The four fusion algorithms, on the checked, clipped boxes of a {@link Table} (internal: `fuse` in
 * fusion.ts is the entry point). Plain float64 loops over typed arrays, in ensemble-boxes' order of
 * operations wherever the result depends on it, so that single boxes, NMS and soft-NMS come out bit
 * for bit as the reference's. Fused boxes (WBF, NMW) weight each box by its score relative to the
 * cluster's top score, which is the same mean but keeps its digits for tiny (subnormal) scores,
 * where score × coordinate underflows; ensemble-boxes rounds them to float32 anyway.
 *
 * Ties are broken canonically, never by the order of the views: boxes of one class are ranked by
 * (weighted) score, highest first, then by smaller x1, y1, x2, y2, then by larger view weight, and
 * only then by view and box index, which separates exact duplicates alone (the table's order). Sums
 * over view weights run in ascending order of the weights. So permuting the views (with their
 * weights) cannot change the answer, except, for `box_and_model_avg` and `absent_model_aware_avg`,
 * which view is credited when exact duplicates land in different clusters (docs/boxes.md).
 *
 * @since 0.3.0
 */
import type { Box, Detections } from './detections.js'
import type { ConfidenceRule } from './fusion-options.js'
import { keySpace, sortByScore, sortedSum, type Table } from './fusion-table.js'
import { cellOf, grid, insert, insertCells, query, type Grid } from './grid.js'

export { sortedSum } from './fusion-table.js'

interface Rect {
  readonly x1: number
  readonly y1: number
  readonly x2: number
  readonly y2: number
  readonly area: number
}

/** Intersection over union, as ensemble-boxes computes it: `inter / (areaA + areaB − inter)`. */
export const iouOf = (a: Rect, b: Rect): number => {
  const w = Math.max(Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1), 0)
  const h = Math.max(Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1), 0)
  const inter = w * h
  return inter === 0 ? 0 : inter / (a.area + b.area - inter)
}

/** `iouOf` of the boxes at positions `p` and `q` of a table. */
const iouAt = (t: Table, p: number, q: number): number => {
  const w = Math.max(Math.min(t.x2[p] ?? 0, t.x2[q] ?? 0) - Math.max(t.x1[p] ?? 0, t.x1[q] ?? 0), 0)
  const h = Math.max(Math.min(t.y2[p] ?? 0, t.y2[q] ?? 0) - Math.max(t.y1[p] ?? 0, t.y1[q] ?? 0), 0)
  const inter = w * h
  return inter === 0 ? 0 : inter / ((t.area[p] ?? 0) + (t.area[q] ?? 0) - inter)
}

const boxAt = (t: Table, p: number): Box => [t.x1[p] ?? 0, t.y1[p] ?? 0, t.x2[p] ?? 0, t.y2[p] ?? 0]

/** Fused boxes in the order made, for {@link byScore}. */
interface Made {
  readonly boxes: Box[]
  readonly scores: number[]
  readonly labels: number[]
}
const made = (): Made => ({ boxes: [], scores: [], labels: [] })

/** Highest score first; ties keep the order made (class ascending, then creation), as a stable sort does. */
const byScore = (m: Made): Detections => {
  const scores = Float64Array.from(m.scores)
  const order = Int32Array.from({ length: scores.length }, (_, k) => k)
  sortByScore(order, scores, (a, b) => (scores[b] ?? 0) - (scores[a] ?? 0) || a - b)
  const boxes: Box[] = [], sorted: number[] = [], labels: number[] = []
  for (const k of order) {
    boxes.push(m.boxes[k] ?? [0, 0, 0, 0]); sorted.push(m.scores[k] ?? 0); labels.push(m.labels[k] ?? 0)
  }
  return { boxes, scores: sorted, labels }
}

/** The size of the largest class: scratch for grid queries. */
const largestClass = (t: Table): number => {
  let most = 0
  for (let g = 0; g + 1 < t.groups.length; g++) most = Math.max(most, (t.groups[g + 1] ?? 0) - (t.groups[g] ?? 0))
  return most
}

// -------------------------------------------------------------------------------------------------
// NMS and soft-NMS
// -------------------------------------------------------------------------------------------------

/** Pairs of overlapping boxes: `count` pairs (`lower[e]`, `higher[e]`) of positions, lower rank first, with their IoU (> 0). */
interface Pairs {
  count: number
  lower: Int32Array
  higher: Int32Array
  iou: Float64Array
}
const pairs = (capacity: number): Pairs => {
  const n = Math.max(16, capacity)
  return { count: 0, lower: new Int32Array(n), higher: new Int32Array(n), iou: new Float64Array(n) }
}

const addPair = (s: Pairs, p: number, q: number, iou: number): void => {
  if (s.count === s.iou.length) {
    const lower = new Int32Array(2 * s.count), higher = new Int32Array(2 * s.count), ious = new Float64Array(2 * s.count)
    lower.set(s.lower); higher.set(s.higher); ious.set(s.iou)
    s.lower = lower; s.higher = higher; s.iou = ious
  }
  s.lower[s.count] = Math.min(p, q)
  s.higher[s.count] = Math.max(p, q)
  s.iou[s.count++] = iou
}

/**
 * Every pair of boxes in positions `[start, end)` (one class) whose IoU is above `threshold` (≥ 0),
 * into `out` (emptied first), found by a sweep along x: boxes in order of x1, each compared with the
 * boxes that start before it ends. Positions and a quantised x1 share one number, so a native sort
 * of an Int32Array orders them; a box's scan stops at the first box whose quantised x1 lies beyond
 * its quantised x2, which cannot overlap it (nor can any later one), so no pair is missed.
 */
const overlapsAbove = (t: Table, start: number, end: number, threshold: number, out: Pairs): void => {
  out.count = 0
  const n = end - start
  if (n < 2) return
  const { bits, slots, scale } = keySpace(n)
  const keys = new Int32Array(n)
  for (let k = 0; k < n; k++) keys[k] = Math.floor((t.x1[start + k] ?? 0) * scale) * slots + k
  keys.sort()
  // The boxes in sweep order, copied so that the scan reads memory in order.
  const at = new Int32Array(n), from = new Int32Array(n)
  const x1 = new Float64Array(n), y1 = new Float64Array(n), x2 = new Float64Array(n), y2 = new Float64Array(n), area = new Float64Array(n)
  for (let a = 0; a < n; a++) {
    const key = keys[a] ?? 0
    const k = key & (slots - 1)
    const p = start + k
    at[a] = p
    from[a] = key >> bits
    x1[a] = t.x1[p] ?? 0; y1[a] = t.y1[p] ?? 0; x2[a] = t.x2[p] ?? 0; y2[a] = t.y2[p] ?? 0; area[a] = t.area[p] ?? 0
  }
  for (let a = 0; a < n; a++) {
    const ax1 = x1[a] ?? 0, ay1 = y1[a] ?? 0, ax2 = x2[a] ?? 0, ay2 = y2[a] ?? 0, aa = area[a] ?? 0
    const until = Math.floor(ax2 * scale)
    for (let b = a + 1; b < n && (from[b] ?? 0) <= until; b++) {
      // iouAt of the two boxes, with an early exit where it is 0.
      const h = Math.min(ay2, y2[b] ?? 0) - Math.max(ay1, y1[b] ?? 0)
      if (!(h > 0)) continue
      const w = Math.min(ax2, x2[b] ?? 0) - Math.max(ax1, x1[b] ?? 0)
      if (!(w > 0)) continue
      const inter = w * h
      if (inter === 0) continue
      const iou = inter / (aa + (area[b] ?? 0) - inter)
      if (iou > threshold) addPair(out, at[a] ?? 0, at[b] ?? 0, iou)
    }
  }
}

/** A grid holding the boxes of positions `[start, end)` of a table, as entries `0 … end − start − 1` (their ranks). */
const gridOf = (t: Table, start: number, end: number): Grid => {
  const g = grid(end - start)
  for (let p = start; p < end; p++) insert(g, p - start, t.x1[p] ?? 0, t.y1[p] ?? 0, t.x2[p] ?? 0, t.y2[p] ?? 0)
  return g
}

/**
 * Greedy class-wise NMS. Output: classes ascending, each in the order kept (score descending).
 * Only the boxes kept look for the boxes they suppress, on a grid (about half the boxes are kept
 * on the benchmark's scene, where this beats finding every overlapping pair as soft-NMS does).
 */
export const nms = (t: Table, iouThreshold: number): Detections => {
  const boxes: Box[] = [], scores: number[] = [], labels: number[] = []
  const suppressed = new Uint8Array(t.size)
  const near = new Int32Array(largestClass(t))
  for (let c = 0; c + 1 < t.groups.length; c++) {
    const start = t.groups[c] ?? 0, end = t.groups[c + 1] ?? 0
    const g = gridOf(t, start, end)
    for (let i = start; i < end; i++) {
      if (suppressed[i] === 1) continue
      boxes.push(boxAt(t, i)); scores.push(t.score[i] ?? 0); labels.push(t.label[i] ?? 0)
      // Only later boxes can be suppressed by it; the grid leaves out those that cannot overlap it.
      const found = query(g, t.x1[i] ?? 0, t.y1[i] ?? 0, t.x2[i] ?? 0, t.y2[i] ?? 0, near)
      for (let f = 0; f < found; f++) {
        const j = start + (near[f] ?? 0)
        if (j > i && suppressed[j] === 0 && iouAt(t, i, j) > iouThreshold) suppressed[j] = 1
      }
    }
  }
  return { boxes, scores, labels }
}

/**
 * Class-wise soft-NMS: repeatedly takes the box with the highest current score (ties: canonical
 * order) and decays the scores of the boxes not yet taken by their IoU with it; every box takes its
 * turn, also one already decayed below the threshold (as ensemble-boxes does). Then keeps the boxes
 * whose decayed score is above `scoreThreshold`, in the order they were taken.
 *
 * Every box takes its turn, so every overlapping pair decays one of its boxes: the pairs are found
 * once, with their decay factor (`1 − IoU` when the IoU is above the threshold (linear), or
 * `exp(−IoU² / sigma)`; a pair without decay is left out), listed under both boxes.
 *
 * The next box comes from a max-heap of (key, rank), highest key first, then lowest rank, with one
 * entry per box not yet taken; a key is the box's score when it was (re)inserted. Scores only fall,
 * so keys are upper bounds: a top entry whose key is still its box's score is the highest current
 * score (ties: the lowest rank), and one whose box has fallen since goes back with its current score.
 */
export const softNms = (
  t: Table,
  s: { readonly kernel: 'linear' | 'gaussian'; readonly iouThreshold: number; readonly sigma: number; readonly scoreThreshold: number; readonly scores: 'decayed' | 'original' },
): Detections => {
  const boxes: Box[] = [], scores: number[] = [], labels: number[] = []
  const linear = s.kernel === 'linear'
  const decayedOut = s.scores === 'decayed'
  const { sigma, scoreThreshold } = s
  const current = t.score.slice()
  const taken = new Uint8Array(t.size)
  const most = largestClass(t)
  const keys = new Float64Array(most)
  const ranks = new Int32Array(most)
  // A few dozen overlapping pairs per box in crowded scenes; the list grows when needed.
  const found = pairs(16 * most)
  // Per position, its overlapping boxes and their factors (offsets into `other` and `factor`).
  const first = new Int32Array(t.size + 1)
  let other = new Int32Array(0)
  let factor = new Float64Array(0)
  for (let c = 0; c + 1 < t.groups.length; c++) {
    const start = t.groups[c] ?? 0, end = t.groups[c + 1] ?? 0
    // Linear decay acts above the threshold only; gaussian on every IoU > 0.
    overlapsAbove(t, start, end, linear ? s.iouThreshold : 0, found)
    if (other.length < 2 * found.count) { other = new Int32Array(4 * found.count); factor = new Float64Array(4 * found.count) }
    first.fill(0, start, end + 1)
    for (let e = 0; e < found.count; e++) {
      const p = found.lower[e] ?? 0, q = found.higher[e] ?? 0
      first[p + 1] = (first[p + 1] ?? 0) + 1
      first[q + 1] = (first[q + 1] ?? 0) + 1
    }
    for (let p = start; p < end; p++) first[p + 1] = (first[p + 1] ?? 0) + (first[p] ?? 0)
    const fill = first.slice(start, end)
    for (let e = 0; e < found.count; e++) {
      const p = found.lower[e] ?? 0, q = found.higher[e] ?? 0, ovr = found.iou[e] ?? 0
      const f = linear ? 1 - ovr : Math.exp(-(ovr * ovr) / sigma)
      const at = fill[p - start] ?? 0, bt = fill[q - start] ?? 0
      other[at] = q; factor[at] = f; fill[p - start] = at + 1
      other[bt] = p; factor[bt] = f; fill[q - start] = bt + 1
    }
    // Ranks in canonical order are sorted by (score descending, rank ascending): already a heap.
    let size = end - start
    for (let k = 0; k < size; k++) { keys[k] = t.score[start + k] ?? 0; ranks[k] = k }
    while (size > 0) {
      const key = keys[0] ?? 0
      const k = ranks[0] ?? 0
      const i = start + k
      const now = current[i] ?? 0
      if (key !== now) {
        // Fallen since it was inserted: back in with its current score (replaces the top, sifts down).
        siftDown(keys, ranks, size, now, k)
        continue
      }
      // Take it: the last entry replaces the top.
      size--
      if (size > 0) siftDown(keys, ranks, size, keys[size] ?? 0, ranks[size] ?? 0)
      taken[i] = 1
      // Its score is final (only boxes not taken decay).
      if (now > scoreThreshold) {
        boxes.push(boxAt(t, i)); scores.push(decayedOut ? now : (t.score[i] ?? 0)); labels.push(t.label[i] ?? 0)
      }
      for (let e = first[i] ?? 0, stop = first[i + 1] ?? 0; e < stop; e++) {
        const j = other[e] ?? 0
        if (taken[j] === 0) current[j] = (factor[e] ?? 1) * (current[j] ?? 0)
      }
    }
  }
  return { boxes, scores, labels }
}

/** Puts (key, rank) at the top of the heap `[0, size)` and sifts it down to its place. */
const siftDown = (keys: Float64Array, ranks: Int32Array, size: number, key: number, rank: number): void => {
  let k = 0
  for (;;) {
    const l = 2 * k + 1
    if (l >= size) break
    // The child above the other: higher key, then lower rank.
    let best = l
    const r = l + 1
    if (r < size) {
      const kl = keys[l] ?? 0, kr = keys[r] ?? 0
      if (kr > kl || (kr === kl && (ranks[r] ?? 0) < (ranks[l] ?? 0))) best = r
    }
    const kb = keys[best] ?? 0, rb = ranks[best] ?? 0
    if (!(kb > key || (kb === key && rb < rank))) break
    keys[k] = kb; ranks[k] = rb
    k = best
  }
  keys[k] = key; ranks[k] = rank
}

// -------------------------------------------------------------------------------------------------
// Non-maximum weighted
// -------------------------------------------------------------------------------------------------

/**
 * NMW: each box joins the cluster whose top box it overlaps most (IoU above the threshold; the
 * first such cluster on ties) or starts one. A cluster's box is the average of its boxes weighted
 * by score × IoU with the top box (plain IoU weights when every score is 0); its score is the top
 * box's. Output: score descending.
 */
export const nmw = (t: Table, iouThreshold: number): Detections => {
  const out = made()
  const most = largestClass(t)
  const near = new Int32Array(most)
  // Per cluster of a class: its top box and the running weighted sums of its members, in member order.
  const leader = new Int32Array(most)
  const sx1 = new Float64Array(most), sy1 = new Float64Array(most), sx2 = new Float64Array(most), sy2 = new Float64Array(most)
  const total = new Float64Array(most)
  for (let c = 0; c + 1 < t.groups.length; c++) {
    const start = t.groups[c] ?? 0, end = t.groups[c + 1] ?? 0
    const g = grid(end - start)
    let clusters = 0
    for (let p = start; p < end; p++) {
      const found = query(g, t.x1[p] ?? 0, t.y1[p] ?? 0, t.x2[p] ?? 0, t.y2[p] ?? 0, near)
      // The highest IoU above the threshold, the first cluster (lowest index) on ties — what a scan
      // over all clusters in order gives, whatever order the grid returns them in.
      let best = -1
      let bestIou = iouThreshold
      for (let f = 0; f < found; f++) {
        const k = near[f] ?? 0
        const v = iouAt(t, leader[k] ?? 0, p)
        if (v > bestIou || (v === bestIou && best >= 0 && k < best)) { best = k; bestIou = v }
      }
      let k = best
      let iou = bestIou
      if (k < 0) {
        k = clusters++
        insert(g, k, t.x1[p] ?? 0, t.y1[p] ?? 0, t.x2[p] ?? 0, t.y2[p] ?? 0)
        leader[k] = p
        sx1[k] = 0; sy1[k] = 0; sx2[k] = 0; sy2[k] = 0; total[k] = 0
        iou = iouAt(t, p, p)
      }
      // Weights score × IoU relative to the top box's score (the highest), so that tiny scores keep
      // their digits. When every score is 0 ensemble-boxes divides 0 by 0; the IoU weights are the limit.
      const top = t.score[leader[k] ?? 0] ?? 0
      const w = (top > 0 ? (t.score[p] ?? 0) / top : 1) * iou
      sx1[k] = (sx1[k] ?? 0) + w * (t.x1[p] ?? 0); sy1[k] = (sy1[k] ?? 0) + w * (t.y1[p] ?? 0)
      sx2[k] = (sx2[k] ?? 0) + w * (t.x2[p] ?? 0); sy2[k] = (sy2[k] ?? 0) + w * (t.y2[p] ?? 0)
      total[k] = (total[k] ?? 0) + w
    }
    for (let k = 0; k < clusters; k++) {
      const l = leader[k] ?? 0, sum = total[k] ?? 0
      out.boxes.push([(sx1[k] ?? 0) / sum, (sy1[k] ?? 0) / sum, (sx2[k] ?? 0) / sum, (sy2[k] ?? 0) / sum])
      out.scores.push(t.score[l] ?? 0)
      out.labels.push(t.label[l] ?? 0)
    }
  }
  return byScore(out)
}

// -------------------------------------------------------------------------------------------------
// Weighted boxes fusion
// -------------------------------------------------------------------------------------------------

/** The settings WBF reads. */
export interface WbfSettings {
  readonly iouThreshold: number
  readonly confidence: ConfidenceRule
  readonly allowsOverflow: boolean
  /** Every view's weight (ones without weights), in view order. */
  readonly viewWeights: readonly number[]
}

/**
 * The clusters of one class, one entry per field (index: the cluster, in the order made).
 * Box weights are sᵢ / scale, scale being the first (highest) score, so that tiny scores (down to
 * subnormal ones, where sᵢ·cᵢ loses every digit) still average the boxes correctly.
 */
interface Clusters {
  /** First member (its label is the cluster's); last member; per position, the next member (−1: none). */
  readonly first: Int32Array
  readonly last: Int32Array
  readonly nextMember: Int32Array
  readonly count: Int32Array
  readonly scale: Float64Array
  /** Running Σ (sᵢ/scale)·cᵢ per coordinate and Σ sᵢ/scale, and plain Σ cᵢ, in member order. */
  readonly sx1: Float64Array
  readonly sy1: Float64Array
  readonly sx2: Float64Array
  readonly sy2: Float64Array
  readonly norm: Float64Array
  readonly px1: Float64Array
  readonly py1: Float64Array
  readonly px2: Float64Array
  readonly py2: Float64Array
  /** Σ sᵢ, Σ wᵢ and max sᵢ, for the confidence rules. */
  readonly conf: Float64Array
  readonly weights: Float64Array
  readonly best: Float64Array
  /** The current fused box. */
  readonly x1: Float64Array
  readonly y1: Float64Array
  readonly x2: Float64Array
  readonly y2: Float64Array
  readonly area: Float64Array
  /** Bounds of every member and every fused box so far, and the grid cells registered for them. */
  readonly bx1: Float64Array
  readonly by1: Float64Array
  readonly bx2: Float64Array
  readonly by2: Float64Array
  readonly cx0: Int32Array
  readonly cx1: Int32Array
  readonly cy0: Int32Array
  readonly cy1: Int32Array
}

const clustersOf = (most: number, positions: number): Clusters => {
  const f = (): Float64Array => new Float64Array(most)
  const i = (): Int32Array => new Int32Array(most)
  return {
    first: i(), last: i(), nextMember: new Int32Array(positions), count: i(), scale: f(),
    sx1: f(), sy1: f(), sx2: f(), sy2: f(), norm: f(), px1: f(), py1: f(), px2: f(), py2: f(),
    conf: f(), weights: f(), best: f(), x1: f(), y1: f(), x2: f(), y2: f(), area: f(),
    bx1: f(), by1: f(), bx2: f(), by2: f(), cx0: i(), cx1: i(), cy0: i(), cy1: i(),
  }
}

/** IoU of cluster k's fused box with the box at position p, as `iouOf(cluster, box)`. */
const clusterIou = (c: Clusters, k: number, t: Table, p: number): number => {
  const w = Math.max(Math.min(c.x2[k] ?? 0, t.x2[p] ?? 0) - Math.max(c.x1[k] ?? 0, t.x1[p] ?? 0), 0)
  const h = Math.max(Math.min(c.y2[k] ?? 0, t.y2[p] ?? 0) - Math.max(c.y1[k] ?? 0, t.y1[p] ?? 0), 0)
  const inter = w * h
  return inter === 0 ? 0 : inter / ((c.area[k] ?? 0) + (t.area[p] ?? 0) - inter)
}

/** Recomputes cluster k's fused box from its sums. */
const refuse = (c: Clusters, k: number): void => {
  const norm = c.norm[k] ?? 0
  let x1: number, y1: number, x2: number, y2: number
  if (norm > 0) {
    x1 = (c.sx1[k] ?? 0) / norm; y1 = (c.sy1[k] ?? 0) / norm; x2 = (c.sx2[k] ?? 0) / norm; y2 = (c.sy2[k] ?? 0) / norm
  } else {
    // Every weighted score is 0: ensemble-boxes divides 0 by 0 (NaN); the plain mean is the limit of equal weights.
    const n = c.count[k] ?? 1
    x1 = (c.px1[k] ?? 0) / n; y1 = (c.py1[k] ?? 0) / n; x2 = (c.px2[k] ?? 0) / n; y2 = (c.py2[k] ?? 0) / n
  }
  c.x1[k] = x1; c.y1[k] = y1; c.x2[k] = x2; c.y2[k] = y2
  c.area[k] = (x2 - x1) * (y2 - y1)
}

/**
 * WBF: boxes in canonical order each join the cluster whose current fused box they overlap most
 * (IoU above the threshold; the first such cluster on ties) or start one; a cluster's box is the
 * score-weighted mean of its boxes; its score follows the confidence rule. Output: score descending.
 */
export const wbf = (t: Table, s: WbfSettings): Detections => {
  const views = s.viewWeights.length
  const total = sortedSum(s.viewWeights)
  const heaviest = Math.max(...s.viewWeights)
  const rule: RuleSettings = { rule: s.confidence, allowsOverflow: s.allowsOverflow, viewWeights: s.viewWeights, views, total, heaviest, seen: new Int32Array(views), stamp: 0 }
  const out = made()
  const most = largestClass(t)
  const near = new Int32Array(most)
  const c = clustersOf(most, t.size)
  for (let g = 0; g + 1 < t.groups.length; g++) {
    const start = t.groups[g] ?? 0, end = t.groups[g + 1] ?? 0
    const cells = grid(end - start)
    let clusters = 0
    for (let p = start; p < end; p++) {
      const x1 = t.x1[p] ?? 0, y1 = t.y1[p] ?? 0, x2 = t.x2[p] ?? 0, y2 = t.y2[p] ?? 0, score = t.score[p] ?? 0
      // A fused box lies within the bounds of its members (a mean), and the grid holds each cluster
      // in every cell of those bounds, so no cluster the box overlaps is left out.
      const found = query(cells, x1, y1, x2, y2, near)
      let best = -1
      let bestIou = s.iouThreshold
      for (let f = 0; f < found; f++) {
        const k = near[f] ?? 0
        const v = clusterIou(c, k, t, p)
        if (v > bestIou || (v === bestIou && best >= 0 && k < best)) { best = k; bestIou = v }
      }
      c.nextMember[p] = -1
      if (best < 0) {
        // A cluster of one keeps its box as it is (no 0 + s·c / s round trip), as ensemble-boxes does.
        const k = clusters++
        const scale = score > 0 ? score : 1
        const w = score / scale
        c.first[k] = p; c.last[k] = p; c.count[k] = 1; c.scale[k] = scale
        c.sx1[k] = w * x1; c.sy1[k] = w * y1; c.sx2[k] = w * x2; c.sy2[k] = w * y2; c.norm[k] = w
        c.px1[k] = x1; c.py1[k] = y1; c.px2[k] = x2; c.py2[k] = y2
        c.conf[k] = score; c.weights[k] = t.weight[p] ?? 0; c.best[k] = score
        c.x1[k] = x1; c.y1[k] = y1; c.x2[k] = x2; c.y2[k] = y2; c.area[k] = t.area[p] ?? 0
        c.bx1[k] = x1; c.by1[k] = y1; c.bx2[k] = x2; c.by2[k] = y2
        const cx0 = cellOf(cells, x1), cx1 = cellOf(cells, x2), cy0 = cellOf(cells, y1), cy1 = cellOf(cells, y2)
        insertCells(cells, k, cx0, cx1, cy0, cy1, 1, 0, 1, 0)
        c.cx0[k] = cx0; c.cx1[k] = cx1; c.cy0[k] = cy0; c.cy1[k] = cy1
      } else {
        const k = best
        c.nextMember[c.last[k] ?? 0] = p
        c.last[k] = p
        c.count[k] = (c.count[k] ?? 0) + 1
        const w = score / (c.scale[k] ?? 1)
        c.sx1[k] = (c.sx1[k] ?? 0) + w * x1; c.sy1[k] = (c.sy1[k] ?? 0) + w * y1
        c.sx2[k] = (c.sx2[k] ?? 0) + w * x2; c.sy2[k] = (c.sy2[k] ?? 0) + w * y2
        c.norm[k] = (c.norm[k] ?? 0) + w
        c.px1[k] = (c.px1[k] ?? 0) + x1; c.py1[k] = (c.py1[k] ?? 0) + y1
        c.px2[k] = (c.px2[k] ?? 0) + x2; c.py2[k] = (c.py2[k] ?? 0) + y2
        c.conf[k] = (c.conf[k] ?? 0) + score
        c.weights[k] = (c.weights[k] ?? 0) + (t.weight[p] ?? 0)
        c.best[k] = Math.max(c.best[k] ?? 0, score)
        refuse(c, k)
        const obx1 = c.bx1[k] ?? 0, oby1 = c.by1[k] ?? 0, obx2 = c.bx2[k] ?? 0, oby2 = c.by2[k] ?? 0
        const bx1 = Math.min(obx1, x1, c.x1[k] ?? 0), by1 = Math.min(oby1, y1, c.y1[k] ?? 0)
        const bx2 = Math.max(obx2, x2, c.x2[k] ?? 0), by2 = Math.max(oby2, y2, c.y2[k] ?? 0)
        if (bx1 < obx1 || by1 < oby1 || bx2 > obx2 || by2 > oby2) {
          c.bx1[k] = bx1; c.by1[k] = by1; c.bx2[k] = bx2; c.by2[k] = by2
          const cx0 = cellOf(cells, bx1), cx1 = cellOf(cells, bx2), cy0 = cellOf(cells, by1), cy1 = cellOf(cells, by2)
          insertCells(cells, k, cx0, cx1, cy0, cy1, c.cx0[k] ?? 0, c.cx1[k] ?? 0, c.cy0[k] ?? 0, c.cy1[k] ?? 0)
          c.cx0[k] = cx0; c.cx1[k] = cx1; c.cy0[k] = cy0; c.cy1[k] = cy1
        }
      }
    }
    for (let k = 0; k < clusters; k++) {
      out.boxes.push([c.x1[k] ?? 0, c.y1[k] ?? 0, c.x2[k] ?? 0, c.y2[k] ?? 0])
      out.scores.push(confidenceOf(c, k, t, rule))
      out.labels.push(t.label[c.first[k] ?? 0] ?? 0)
    }
  }
  return byScore(out)
}

/** What the confidence rules read besides the cluster; `seen`: per view, the stamp of the last cluster that had a box of it (scratch). */
interface RuleSettings {
  readonly rule: ConfidenceRule
  readonly allowsOverflow: boolean
  readonly viewWeights: readonly number[]
  readonly views: number
  readonly total: number
  readonly heaviest: number
  readonly seen: Int32Array
  stamp: number
}

/** The weights of the views with a box in cluster k (`present`) or without one, each view once. */
const viewWeightsOf = (c: Clusters, k: number, t: Table, r: RuleSettings, present: boolean): number[] => {
  const stamp = ++r.stamp
  for (let p = c.first[k] ?? -1; p >= 0; p = c.nextMember[p] ?? -1) r.seen[t.view[p] ?? 0] = stamp
  const out: number[] = []
  for (let v = 0; v < r.views; v++) if ((r.seen[v] === stamp) === present) out.push(r.viewWeights[v] ?? 0)
  return out
}

/** The confidence rules, in ensemble-boxes' order of operations (see `ConfidenceRule`). */
const confidenceOf = (c: Clusters, k: number, t: Table, r: RuleSettings): number => {
  const n = c.count[k] ?? 1
  const conf = c.conf[k] ?? 0
  const weights = c.weights[k] ?? 0
  switch (r.rule) {
    case 'max':
      return (c.best[k] ?? 0) / r.heaviest
    case 'avg': {
      const mean = conf / n
      return r.allowsOverflow ? mean * n / r.total : mean * Math.min(r.views, n) / r.total
    }
    case 'box_and_model_avg': {
      // Every box comes from a view of weight 0: the average is undefined and the views' share is 0.
      if (weights === 0) return 0
      return (conf / n) * n / weights * sortedSum(viewWeightsOf(c, k, t, r, true)) / r.total
    }
    case 'absent_model_aware_avg': {
      const absent = sortedSum(viewWeightsOf(c, k, t, r, false))
      return (conf / n) * n / (weights + absent)
    }
  }
}
