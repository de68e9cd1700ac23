/**
 * The four fusion algorithms, on checked, clipped rows (internal: `fuse` in fusion.ts is the entry
 * point). Plain float64 loops, in ensemble-boxes' order of operations wherever the result depends on
 * it, so that single boxes, NMS and soft-NMS come out bit for bit as the reference's. Fused boxes
 * (WBF, NMW) weight each box by its score relative to the cluster's top score, which is the same
 * mean but keeps its digits for tiny (subnormal) scores, where score × coordinate underflows;
 * ensemble-boxes rounds them to float32 anyway.
 *
 * Ties are broken canonically, never by the order of the views: rows of one class are ranked by
 * (weighted) score, highest first, then by smaller x1, y1, x2, y2, then by larger view weight, and
 * only then by view and box index, which separates exact duplicates alone. Sums over view weights
 * run in ascending order of the weights. So permuting the views (with their weights) cannot change
 * the answer, except, for `box_and_model_avg` and `absent_model_aware_avg`, which view is credited
 * when exact duplicates land in different clusters (docs/boxes.md).
 *
 * @since 0.3.0
 */
import type { Box, Detections } from './detections.js'
import type { ConfidenceRule } from './fusion-options.js'
import { grid, insert, query, type Grid } from './grid.js'

/** One box on its way through a fusion. */
export interface Row {
  readonly label: number
  /** The score after view weighting (what the method ranks and averages). */
  readonly score: number
  /** The score as given. */
  readonly raw: number
  /** The view's weight (1 without weights). */
  readonly weight: number
  readonly view: number
  /** Position of the box in its view. */
  readonly index: number
  readonly x1: number
  readonly y1: number
  readonly x2: number
  readonly y2: number
  readonly area: number
}

/** Rows of one class, by class, classes ascending. */
export const byLabel = (rows: readonly Row[]): readonly (readonly Row[])[] => {
  const groups = new Map<number, Row[]>()
  for (const r of rows) {
    const g = groups.get(r.label)
    if (g === undefined) groups.set(r.label, [r])
    else g.push(r)
  }
  return [...groups.keys()].sort((a, b) => a - b).map((k) => groups.get(k) ?? [])
}

/** The canonical order: score descending, then coordinates, then larger weight, then view and index. */
export const canonical = (a: Row, b: Row): number =>
  b.score - a.score || a.x1 - b.x1 || a.y1 - b.y1 || a.x2 - b.x2 || a.y2 - b.y2 || b.weight - a.weight || a.view - b.view || a.index - b.index

/** Sum in ascending order, so that any permutation of `values` gives the same float. */
export const sortedSum = (values: readonly number[]): number => [...values].sort((a, b) => a - b).reduce((s, v) => s + v, 0)

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

/** Fused output, before the final ordering. */
interface Out {
  readonly box: Box
  readonly score: number
  readonly label: number
}

const detectionsOf = (outs: readonly Out[]): Detections => ({
  boxes: outs.map((o) => o.box),
  scores: outs.map((o) => o.score),
  labels: outs.map((o) => o.label),
})

const boxOf = (r: Rect): Box => [r.x1, r.y1, r.x2, r.y2]

/** Highest score first; ties keep their order (class ascending, then creation), as `Array.prototype.sort` is stable. */
const byScore = (outs: Out[]): Out[] => outs.sort((a, b) => b.score - a.score)

// -------------------------------------------------------------------------------------------------
// NMS and soft-NMS
// -------------------------------------------------------------------------------------------------

/** A grid holding every row of a class, by position in `sorted`. */
const gridOf = (sorted: readonly Row[]): Grid => {
  const g = grid(sorted.length)
  for (const [i, r] of sorted.entries()) insert(g, i, r.x1, r.y1, r.x2, r.y2)
  return g
}

/** Greedy class-wise NMS. Output: classes ascending, each in the order kept (score descending). */
export const nms = (rows: readonly Row[], iouThreshold: number): Detections => {
  const outs: Out[] = []
  const near: number[] = []
  for (const group of byLabel(rows)) {
    const sorted = [...group].sort(canonical)
    const g = gridOf(sorted)
    const suppressed = new Uint8Array(sorted.length)
    for (let i = 0; i < sorted.length; i++) {
      const kept = sorted[i]
      if (suppressed[i] === 1 || kept === undefined) continue
      outs.push({ box: boxOf(kept), score: kept.score, label: kept.label })
      // Only later boxes can be suppressed by it; the grid leaves out those that cannot overlap it.
      for (const j of query(g, kept.x1, kept.y1, kept.x2, kept.y2, near)) {
        const other = sorted[j]
        if (j > i && suppressed[j] === 0 && other !== undefined && iouOf(kept, other) > iouThreshold) suppressed[j] = 1
      }
    }
  }
  return detectionsOf(outs)
}

/**
 * A max-heap of (key, rank) with one entry per box not yet taken: highest key first, then lowest
 * rank. A key is the box's score when it was (re)inserted; scores only fall, so keys are upper bounds.
 */
interface Heap {
  readonly keys: Float64Array
  readonly ranks: Int32Array
  size: number
}
const above = (h: Heap, a: number, b: number): boolean => {
  const ka = h.keys[a] ?? 0, kb = h.keys[b] ?? 0
  return ka > kb || (ka === kb && (h.ranks[a] ?? 0) < (h.ranks[b] ?? 0))
}
const swap = (h: Heap, a: number, b: number): void => {
  const k = h.keys[a] ?? 0, r = h.ranks[a] ?? 0
  h.keys[a] = h.keys[b] ?? 0; h.ranks[a] = h.ranks[b] ?? 0
  h.keys[b] = k; h.ranks[b] = r
}
const push = (h: Heap, key: number, rank: number): void => {
  let k = h.size++
  h.keys[k] = key
  h.ranks[k] = rank
  while (k > 0) {
    const parent = (k - 1) >> 1
    if (!above(h, k, parent)) break
    swap(h, k, parent)
    k = parent
  }
}
/** Removes the top entry (read it first from `keys[0]`, `ranks[0]`). */
const pop = (h: Heap): void => {
  h.size--
  swap(h, 0, h.size)
  for (let k = 0; ;) {
    const l = 2 * k + 1, r = l + 1
    let best = k
    if (l < h.size && above(h, l, best)) best = l
    if (r < h.size && above(h, r, best)) best = r
    if (best === k) break
    swap(h, k, best)
    k = best
  }
}

/**
 * For each box, the boxes whose rectangle overlaps it with positive area (as offsets into one list):
 * every box takes a turn in soft-NMS, so the pairs are found once, by a sweep along x.
 */
const neighbours = (rows: readonly Row[]): { readonly start: Int32Array; readonly list: Int32Array } => {
  const n = rows.length
  const byX = Array.from({ length: n }, (_, k) => k).sort((a, b) => (rows[a]?.x1 ?? 0) - (rows[b]?.x1 ?? 0))
  const pairs: number[] = []
  const count = new Int32Array(n + 1)
  for (let a = 0; a < n; a++) {
    const i = byX[a] ?? 0
    const r = rows[i]
    if (r === undefined) continue
    // Boxes starting before r ends overlap it along x (they start at or after r's x1).
    for (let b = a + 1; b < n; b++) {
      const j = byX[b] ?? 0
      const o = rows[j]
      if (o === undefined || o.x1 >= r.x2) break
      if (Math.min(r.y2, o.y2) > Math.max(r.y1, o.y1)) {
        pairs.push(i, j)
        count[i] = (count[i] ?? 0) + 1
        count[j] = (count[j] ?? 0) + 1
      }
    }
  }
  const start = new Int32Array(n + 1)
  for (let k = 0; k < n; k++) start[k + 1] = (start[k] ?? 0) + (count[k] ?? 0)
  const fill = start.slice(0, n)
  const list = new Int32Array(pairs.length)
  for (let p = 0; p < pairs.length; p += 2) {
    const i = pairs[p] ?? 0, j = pairs[p + 1] ?? 0
    list[fill[i] ?? 0] = j
    fill[i] = (fill[i] ?? 0) + 1
    list[fill[j] ?? 0] = i
    fill[j] = (fill[j] ?? 0) + 1
  }
  return { start, list }
}

/**
 * Class-wise soft-NMS: repeatedly takes the box with the highest current score (ties: canonical
 * order) and decays the scores of the boxes not yet taken by their IoU with it; every box takes its
 * turn, also one already decayed below the threshold (as ensemble-boxes does). Then keeps the boxes
 * whose decayed score is above `scoreThreshold`, in the order they were taken.
 */
export const softNms = (
  rows: readonly Row[],
  s: { readonly kernel: 'linear' | 'gaussian'; readonly iouThreshold: number; readonly sigma: number; readonly scoreThreshold: number; readonly scores: 'decayed' | 'original' },
): Detections => {
  const outs: Out[] = []
  const linear = s.kernel === 'linear'
  const { iouThreshold, sigma } = s
  for (const group of byLabel(rows)) {
    const sorted = [...group].sort(canonical)
    const near = neighbours(sorted)
    const current = new Float64Array(sorted.length)
    for (let k = 0; k < sorted.length; k++) current[k] = sorted[k]?.score ?? 0
    const taken = new Uint8Array(sorted.length)
    const heap: Heap = { keys: new Float64Array(sorted.length), ranks: new Int32Array(sorted.length), size: 0 }
    for (const [k, r] of sorted.entries()) push(heap, r.score, k)
    const order: number[] = []
    while (heap.size > 0) {
      const key = heap.keys[0] ?? 0
      const k = heap.ranks[0] ?? 0
      pop(heap)
      // A box whose score fell since it was inserted goes back with its current score; a key equal
      // to the current score is the highest current score (ties: the lowest rank).
      if (key !== current[k]) { push(heap, current[k] ?? 0, k); continue }
      const top = sorted[k]
      if (top === undefined) continue
      taken[k] = 1
      order.push(k)
      for (let e = near.start[k] ?? 0, end = near.start[k + 1] ?? 0; e < end; e++) {
        const j = near.list[e] ?? 0
        const other = sorted[j]
        if (taken[j] === 1 || other === undefined) continue
        const ovr = iouOf(top, other)
        // ovr = 0 leaves the score as it is under both kernels (weight 1, exp(−0) = 1).
        if (ovr === 0) continue
        const before = current[j] ?? 0
        current[j] = linear ? (ovr > iouThreshold ? (1 - ovr) * before : before) : Math.exp(-(ovr * ovr) / sigma) * before
      }
    }
    for (const k of order) {
      const r = sorted[k]
      const decayed = current[k] ?? 0
      if (r !== undefined && decayed > s.scoreThreshold) outs.push({ box: boxOf(r), score: s.scores === 'decayed' ? decayed : r.score, label: r.label })
    }
  }
  return detectionsOf(outs)
}

// -------------------------------------------------------------------------------------------------
// Non-maximum weighted
// -------------------------------------------------------------------------------------------------

/**
 * The cluster to join: the highest IoU above the threshold, the first cluster (lowest index) on
 * ties — what a scan over all clusters in order gives, whatever order the grid returns them in.
 */
const bestMatch = (candidates: readonly number[], iou: (k: number) => number, threshold: number): number => {
  let best = -1
  let bestIou = threshold
  for (const k of candidates) {
    const v = iou(k)
    if (v > bestIou || (v === bestIou && best >= 0 && k < best)) { best = k; bestIou = v }
  }
  return best
}

/**
 * NMW: each box joins the cluster whose top box it overlaps most (IoU above the threshold; the
 * first such cluster on ties) or starts one. A cluster's box is the average of its boxes weighted
 * by score × IoU with the top box (plain IoU weights when every score is 0); its score is the top
 * box's. Output: score descending.
 */
export const nmw = (rows: readonly Row[], iouThreshold: number): Detections => {
  const outs: Out[] = []
  const near: number[] = []
  for (const group of byLabel(rows)) {
    const sorted = [...group].sort(canonical)
    const g = grid(sorted.length)
    const clusters: Row[][] = []
    const leaders: Row[] = []
    for (const r of sorted) {
      const best = bestMatch(query(g, r.x1, r.y1, r.x2, r.y2, near), (k) => {
        const leader = leaders[k]
        return leader === undefined ? 0 : iouOf(leader, r)
      }, iouThreshold)
      const cluster = clusters[best]
      if (cluster === undefined) {
        insert(g, leaders.length, r.x1, r.y1, r.x2, r.y2)
        clusters.push([r])
        leaders.push(r)
      } else cluster.push(r)
    }
    for (const members of clusters) {
      const [leader] = members
      if (leader === undefined) continue
      outs.push({ box: nmwBox(members, leader), score: leader.score, label: leader.label })
    }
  }
  return detectionsOf(byScore(outs))
}

const nmwBox = (members: readonly Row[], leader: Row): Box => {
  // Weights score × IoU relative to the top box's score (the highest), so that tiny scores keep
  // their digits. When every score is 0 ensemble-boxes divides 0 by 0; the IoU weights are the limit.
  const relative = (b: Row): number => (leader.score > 0 ? b.score / leader.score : 1)
  let x1 = 0, y1 = 0, x2 = 0, y2 = 0, total = 0
  for (const b of members) {
    const w = relative(b) * iouOf(b, leader)
    x1 += w * b.x1; y1 += w * b.y1; x2 += w * b.x2; y2 += w * b.y2
    total += w
  }
  return [x1 / total, y1 / total, x2 / total, y2 / total]
}

// -------------------------------------------------------------------------------------------------
// Weighted boxes fusion
// -------------------------------------------------------------------------------------------------

interface Cluster {
  readonly label: number
  readonly members: Row[]
  /**
   * The first (highest) score: the box weights are sᵢ / scale, so that tiny scores (down to
   * subnormal ones, where sᵢ·cᵢ loses every digit) still average the boxes correctly.
   */
  readonly scale: number
  /** Running Σ (sᵢ/scale)·cᵢ per coordinate and Σ sᵢ/scale, in member order; Σ sᵢ and Σ wᵢ for the confidence rules. */
  sx1: number
  sy1: number
  sx2: number
  sy2: number
  norm: number
  conf: number
  weights: number
  best: number
  /** The current fused box. */
  x1: number
  y1: number
  x2: number
  y2: number
  area: number
  /** Bounds of every member and every fused box so far, and the grid cells registered for them. */
  bx1: number
  by1: number
  bx2: number
  by2: number
  cells: { readonly cx0: number; readonly cx1: number; readonly cy0: number; readonly cy1: number }
}

const refuse = (c: Cluster): void => {
  const n = c.members.length
  if (c.norm > 0) {
    c.x1 = c.sx1 / c.norm; c.y1 = c.sy1 / c.norm; c.x2 = c.sx2 / c.norm; c.y2 = c.sy2 / c.norm
  } else {
    // Every weighted score is 0: ensemble-boxes divides 0 by 0 (NaN); the plain mean is the limit of equal weights.
    let x1 = 0, y1 = 0, x2 = 0, y2 = 0
    for (const m of c.members) { x1 += m.x1; y1 += m.y1; x2 += m.x2; y2 += m.y2 }
    c.x1 = x1 / n; c.y1 = y1 / n; c.x2 = x2 / n; c.y2 = y2 / n
  }
  c.area = (c.x2 - c.x1) * (c.y2 - c.y1)
}

/** The settings WBF reads. */
export interface WbfSettings {
  readonly iouThreshold: number
  readonly confidence: ConfidenceRule
  readonly allowsOverflow: boolean
  /** Every view's weight (ones without weights), in view order. */
  readonly viewWeights: readonly number[]
}

/**
 * WBF: boxes in canonical order each join the cluster whose current fused box they overlap most
 * (IoU above the threshold; the first such cluster on ties) or start one; a cluster's box is the
 * score-weighted mean of its boxes; its score follows the confidence rule. Output: score descending.
 */
export const wbf = (rows: readonly Row[], s: WbfSettings): Detections => {
  const views = s.viewWeights.length
  const total = sortedSum(s.viewWeights)
  const heaviest = Math.max(...s.viewWeights)
  const outs: Out[] = []
  const near: number[] = []
  for (const group of byLabel(rows)) {
    const clusters: Cluster[] = []
    const g = grid(group.length)
    for (const r of [...group].sort(canonical)) {
      // A fused box lies within the bounds of its members (a mean), and the grid holds each cluster
      // in every cell of those bounds, so no cluster the box overlaps is left out.
      const best = bestMatch(query(g, r.x1, r.y1, r.x2, r.y2, near), (k) => {
        const c = clusters[k]
        return c === undefined ? 0 : iouOf(c, r)
      }, s.iouThreshold)
      const c = clusters[best]
      if (c === undefined) {
        // A cluster of one keeps its box as it is (no 0 + s·c / s round trip), as ensemble-boxes does.
        const scale = r.score > 0 ? r.score : 1
        const w = r.score / scale
        const cells = insert(g, clusters.length, r.x1, r.y1, r.x2, r.y2)
        clusters.push({
          label: r.label, members: [r], scale, sx1: w * r.x1, sy1: w * r.y1, sx2: w * r.x2, sy2: w * r.y2, norm: w,
          conf: r.score, weights: r.weight, best: r.score, x1: r.x1, y1: r.y1, x2: r.x2, y2: r.y2, area: r.area,
          bx1: r.x1, by1: r.y1, bx2: r.x2, by2: r.y2, cells,
        })
      } else {
        c.members.push(r)
        const w = r.score / c.scale
        c.sx1 += w * r.x1; c.sy1 += w * r.y1; c.sx2 += w * r.x2; c.sy2 += w * r.y2
        c.norm += w
        c.conf += r.score
        c.weights += r.weight
        c.best = Math.max(c.best, r.score)
        refuse(c)
        const bx1 = Math.min(c.bx1, r.x1, c.x1), by1 = Math.min(c.by1, r.y1, c.y1)
        const bx2 = Math.max(c.bx2, r.x2, c.x2), by2 = Math.max(c.by2, r.y2, c.y2)
        if (bx1 < c.bx1 || by1 < c.by1 || bx2 > c.bx2 || by2 > c.by2) {
          c.bx1 = bx1; c.by1 = by1; c.bx2 = bx2; c.by2 = by2
          c.cells = insert(g, best, bx1, by1, bx2, by2, c.cells)
        }
      }
    }
    for (const c of clusters) outs.push({ box: boxOf(c), score: confidenceOf(c, s.confidence, s.allowsOverflow, s.viewWeights, views, total, heaviest), label: c.label })
  }
  return detectionsOf(byScore(outs))
}

/** The confidence rules, in ensemble-boxes' order of operations (see `ConfidenceRule`). */
const confidenceOf = (
  c: Cluster, rule: ConfidenceRule, allowsOverflow: boolean, viewWeights: readonly number[], views: number, total: number, heaviest: number,
): number => {
  const n = c.members.length
  switch (rule) {
    case 'max':
      return c.best / heaviest
    case 'avg': {
      const mean = c.conf / n
      return allowsOverflow ? mean * n / total : mean * Math.min(views, n) / total
    }
    case 'box_and_model_avg': {
      // Every box comes from a view of weight 0: the average is undefined and the views' share is 0.
      if (c.weights === 0) return 0
      const present = new Set(c.members.map((m) => m.view))
      return (c.conf / n) * n / c.weights * sortedSum([...present].map((v) => viewWeights[v] ?? 0)) / total
    }
    case 'absent_model_aware_avg': {
      const present = new Set(c.members.map((m) => m.view))
      const absent = sortedSum(viewWeights.filter((_, v) => !present.has(v)))
      return (c.conf / n) * n / (c.weights + absent)
    }
  }
}
