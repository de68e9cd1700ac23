/**
 * The four fusion algorithms, on checked, clipped rows (internal: `fuse` in fusion.ts is the entry
 * point). Plain float64 loops, in ensemble-boxes' order of operations wherever the result depends on
 * it, so that single boxes and NMS/soft-NMS come out bit for bit as the reference's.
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

/** Greedy class-wise NMS. Output: classes ascending, each in the order kept (score descending). */
export const nms = (rows: readonly Row[], iouThreshold: number): Detections => {
  const outs: Out[] = []
  for (const group of byLabel(rows)) {
    const sorted = [...group].sort(canonical)
    const suppressed = new Uint8Array(sorted.length)
    for (let i = 0; i < sorted.length; i++) {
      if (suppressed[i] === 1) continue
      const kept = sorted[i]
      if (kept === undefined) continue
      outs.push({ box: boxOf(kept), score: kept.score, label: kept.label })
      for (let j = i + 1; j < sorted.length; j++) {
        const other = sorted[j]
        if (suppressed[j] === 0 && other !== undefined && iouOf(kept, other) > iouThreshold) suppressed[j] = 1
      }
    }
  }
  return detectionsOf(outs)
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
  for (const group of byLabel(rows)) {
    const sorted = [...group].sort(canonical)
    const n = sorted.length
    const current = Float64Array.from(sorted, (r) => r.score)
    const taken = new Uint8Array(n)
    const order: number[] = []
    for (let step = 0; step < n; step++) {
      let best = -1
      let bestScore = Number.NEGATIVE_INFINITY
      // Strictly greater: among equal scores the first in canonical order is taken.
      for (let k = 0; k < n; k++) if (taken[k] === 0 && (current[k] ?? 0) > bestScore) { best = k; bestScore = current[k] ?? 0 }
      const top = sorted[best]
      if (top === undefined) break
      taken[best] = 1
      order.push(best)
      for (let k = 0; k < n; k++) {
        const other = sorted[k]
        if (taken[k] === 1 || other === undefined) continue
        const ovr = iouOf(top, other)
        // ovr = 0 leaves the score as it is under both kernels (weight 1, exp(−0) = 1).
        if (ovr === 0) continue
        if (s.kernel === 'linear') {
          if (ovr > s.iouThreshold) current[k] = (1 - ovr) * (current[k] ?? 0)
        } else {
          current[k] = Math.exp(-(ovr * ovr) / s.sigma) * (current[k] ?? 0)
        }
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
 * NMW: each box joins the cluster whose top box it overlaps most (IoU above the threshold; the
 * first such cluster on ties) or starts one. A cluster's box is the average of its boxes weighted
 * by score × IoU with the top box (plain IoU weights when every score is 0); its score is the top
 * box's. Output: score descending.
 */
export const nmw = (rows: readonly Row[], iouThreshold: number): Detections => {
  const outs: Out[] = []
  for (const group of byLabel(rows)) {
    const sorted = [...group].sort(canonical)
    const clusters: Row[][] = []
    const leaders: Row[] = []
    for (const r of sorted) {
      let best = -1
      let bestIou = iouThreshold
      for (let k = 0; k < leaders.length; k++) {
        const leader = leaders[k]
        if (leader === undefined) continue
        const v = iouOf(leader, r)
        if (v > bestIou) { best = k; bestIou = v }
      }
      const cluster = clusters[best]
      if (cluster === undefined) { clusters.push([r]); leaders.push(r) } else cluster.push(r)
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
  const weighted = (weightOf: (r: Row, iou: number) => number): { readonly sum: readonly [number, number, number, number]; readonly total: number } => {
    let x1 = 0, y1 = 0, x2 = 0, y2 = 0, total = 0
    for (const b of members) {
      const w = weightOf(b, iouOf(b, leader))
      x1 += w * b.x1; y1 += w * b.y1; x2 += w * b.x2; y2 += w * b.y2
      total += w
    }
    return { sum: [x1, y1, x2, y2], total }
  }
  const scoreWeighted = weighted((b, iou) => b.score * iou)
  // All scores 0 (the top box's score is 0): ensemble-boxes divides 0 by 0; the IoU weights are the limit.
  const { sum, total } = scoreWeighted.total > 0 ? scoreWeighted : weighted((_, iou) => iou)
  return [sum[0] / total, sum[1] / total, sum[2] / total, sum[3] / total]
}

// -------------------------------------------------------------------------------------------------
// Weighted boxes fusion
// -------------------------------------------------------------------------------------------------

interface Cluster {
  readonly label: number
  readonly members: Row[]
  /** Running Σ sᵢ·cᵢ per coordinate, Σ sᵢ and Σ wᵢ, in member order (as ensemble-boxes adds them). */
  sx1: number
  sy1: number
  sx2: number
  sy2: number
  conf: number
  weights: number
  best: number
  /** The current fused box. */
  x1: number
  y1: number
  x2: number
  y2: number
  area: number
}

const refuse = (c: Cluster): void => {
  const n = c.members.length
  if (c.conf > 0) {
    c.x1 = c.sx1 / c.conf; c.y1 = c.sy1 / c.conf; c.x2 = c.sx2 / c.conf; c.y2 = c.sy2 / c.conf
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
  for (const group of byLabel(rows)) {
    const clusters: Cluster[] = []
    for (const r of [...group].sort(canonical)) {
      let best = -1
      let bestIou = s.iouThreshold
      for (let k = 0; k < clusters.length; k++) {
        const c = clusters[k]
        if (c === undefined) continue
        const v = iouOf(c, r)
        if (v > bestIou) { best = k; bestIou = v }
      }
      const c = clusters[best]
      if (c === undefined) {
        // A cluster of one keeps its box as it is (no 0 + s·c / s round trip), as ensemble-boxes does.
        clusters.push({
          label: r.label, members: [r], sx1: r.score * r.x1, sy1: r.score * r.y1, sx2: r.score * r.x2, sy2: r.score * r.y2,
          conf: r.score, weights: r.weight, best: r.score, x1: r.x1, y1: r.y1, x2: r.x2, y2: r.y2, area: r.area,
        })
      } else {
        c.members.push(r)
        c.sx1 += r.score * r.x1; c.sy1 += r.score * r.y1; c.sx2 += r.score * r.x2; c.sy2 += r.score * r.y2
        c.conf += r.score
        c.weights += r.weight
        c.best = Math.max(c.best, r.score)
        refuse(c)
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
