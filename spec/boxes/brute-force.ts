/**
 * The fusion methods with plain all-pairs loops over one object per box and an O(n²) soft-NMS
 * selection: what src/boxes/fusion-algorithms.ts computes on typed columns with a sweep or a grid
 * for candidates and a heap. Same boxes (a table's, in any order: each class is sorted here by its own
 * comparator), same tie rules and formulas; spec/boxes/search.test.ts checks that both give
 * identical answers.
 */
import type { Box, Detections } from '../../src/boxes/detections.js'
import { iouOf, sortedSum, type WbfSettings } from '../../src/boxes/fusion-algorithms.js'
import type { Table } from '../../src/boxes/fusion-table.js'

/** One box on its way through a fusion. */
export interface Row {
  readonly label: number
  readonly score: number
  readonly weight: number
  readonly view: number
  readonly index: number
  readonly x1: number
  readonly y1: number
  readonly x2: number
  readonly y2: number
  readonly area: number
}

/** The boxes of a table as rows, in view order (as the views gave them). */
export const rowsOf = (t: Table): readonly Row[] =>
  Array.from({ length: t.size }, (_, p): Row => ({
    label: t.label[p] ?? 0, score: t.score[p] ?? 0, weight: t.weight[p] ?? 0, view: t.view[p] ?? 0, index: t.index[p] ?? 0,
    x1: t.x1[p] ?? 0, y1: t.y1[p] ?? 0, x2: t.x2[p] ?? 0, y2: t.y2[p] ?? 0, area: t.area[p] ?? 0,
  })).sort((a, b) => a.view - b.view || a.index - b.index)

/** Rows of one class, by class, classes ascending. */
const byLabel = (rows: readonly Row[]): readonly (readonly Row[])[] => {
  const groups = new Map<number, Row[]>()
  for (const r of rows) {
    const g = groups.get(r.label)
    if (g === undefined) groups.set(r.label, [r])
    else g.push(r)
  }
  return [...groups.keys()].sort((a, b) => a - b).map((k) => groups.get(k) ?? [])
}

/** The canonical order: score descending, then coordinates, then larger weight, then view and index. */
const canonical = (a: Row, b: Row): number =>
  b.score - a.score || a.x1 - b.x1 || a.y1 - b.y1 || a.x2 - b.x2 || a.y2 - b.y2 || b.weight - a.weight || a.view - b.view || a.index - b.index

interface Out { readonly box: Box; readonly score: number; readonly label: number }
const detectionsOf = (outs: readonly Out[]): Detections => ({ boxes: outs.map((o) => o.box), scores: outs.map((o) => o.score), labels: outs.map((o) => o.label) })
const byScore = (outs: Out[]): Out[] => outs.sort((a, b) => b.score - a.score)
const boxOf = (r: { x1: number; y1: number; x2: number; y2: number }): Box => [r.x1, r.y1, r.x2, r.y2]

export const nms = (rows: readonly Row[], t: number): Detections => {
  const outs: Out[] = []
  for (const group of byLabel(rows)) {
    const sorted = [...group].sort(canonical)
    const dropped = sorted.map(() => false)
    sorted.forEach((kept, i) => {
      if (dropped[i] === true) return
      outs.push({ box: boxOf(kept), score: kept.score, label: kept.label })
      sorted.forEach((other, j) => { if (j > i && iouOf(kept, other) > t) dropped[j] = true })
    })
  }
  return detectionsOf(outs)
}

export const softNms = (rows: readonly Row[], s: { readonly kernel: 'linear' | 'gaussian'; readonly iouThreshold: number; readonly sigma: number; readonly scoreThreshold: number; readonly scores: 'decayed' | 'original' }): Detections => {
  const outs: Out[] = []
  for (const group of byLabel(rows)) {
    const sorted = [...group].sort(canonical)
    const current = sorted.map((r) => r.score)
    const taken = sorted.map(() => false)
    const order: number[] = []
    for (let step = 0; step < sorted.length; step++) {
      let best = -1
      for (let k = 0; k < sorted.length; k++) if (!taken[k] && (best < 0 || (current[k] ?? 0) > (current[best] ?? 0))) best = k
      const top = sorted[best]
      if (top === undefined) break
      taken[best] = true
      order.push(best)
      sorted.forEach((other, k) => {
        if (taken[k]) return
        const ovr = iouOf(top, other)
        const before = current[k] ?? 0
        current[k] = s.kernel === 'linear' ? (ovr > s.iouThreshold ? (1 - ovr) * before : before) : Math.exp(-(ovr * ovr) / s.sigma) * before
      })
    }
    for (const k of order) {
      const r = sorted[k]
      if (r !== undefined && (current[k] ?? 0) > s.scoreThreshold) outs.push({ box: boxOf(r), score: s.scores === 'decayed' ? (current[k] ?? 0) : r.score, label: r.label })
    }
  }
  return detectionsOf(outs)
}

const firstBest = (ious: readonly number[], t: number): number => {
  let best = -1
  let bestIou = t
  ious.forEach((v, k) => { if (v > bestIou) { best = k; bestIou = v } })
  return best
}

export const nmw = (rows: readonly Row[], t: number): Detections => {
  const outs: Out[] = []
  for (const group of byLabel(rows)) {
    const clusters: Row[][] = []
    for (const r of [...group].sort(canonical)) {
      const best = firstBest(clusters.map((c) => (c[0] === undefined ? 0 : iouOf(c[0], r))), t)
      const c = clusters[best]
      if (c === undefined) clusters.push([r])
      else c.push(r)
    }
    for (const members of clusters) {
      const [top] = members
      if (top === undefined) continue
      const w = members.map((b) => (top.score > 0 ? b.score / top.score : 1) * iouOf(b, top))
      const total = w.reduce((a, x) => a + x, 0)
      const at = (f: (b: Row) => number): number => members.reduce((a, b, i) => a + (w[i] ?? 0) * f(b), 0) / total
      outs.push({ box: [at((b) => b.x1), at((b) => b.y1), at((b) => b.x2), at((b) => b.y2)], score: top.score, label: top.label })
    }
  }
  return detectionsOf(byScore(outs))
}

interface Fused { x1: number; y1: number; x2: number; y2: number; area: number }
const fusedOf = (members: readonly Row[]): Fused => {
  const [top] = members
  if (top === undefined || members.length === 1) return top ?? { x1: 0, y1: 0, x2: 0, y2: 0, area: 0 }
  const scale = top.score > 0 ? top.score : 1
  const w = members.map((m) => m.score / scale)
  const norm = w.reduce((a, x) => a + x, 0)
  const at = (f: (b: Row) => number): number => (norm > 0 ? members.reduce((a, b, i) => a + (w[i] ?? 0) * f(b), 0) / norm : members.reduce((a, b) => a + f(b), 0) / members.length)
  const [x1, y1, x2, y2] = [at((b) => b.x1), at((b) => b.y1), at((b) => b.x2), at((b) => b.y2)]
  return { x1, y1, x2, y2, area: (x2 - x1) * (y2 - y1) }
}

export const wbf = (rows: readonly Row[], s: WbfSettings): Detections => {
  const W = sortedSum(s.viewWeights)
  const outs: Out[] = []
  for (const group of byLabel(rows)) {
    const clusters: { members: Row[]; fused: Fused }[] = []
    for (const r of [...group].sort(canonical)) {
      const best = firstBest(clusters.map((c) => iouOf(c.fused, r)), s.iouThreshold)
      const c = clusters[best]
      if (c === undefined) clusters.push({ members: [r], fused: r })
      else { c.members.push(r); c.fused = fusedOf(c.members) }
    }
    for (const { members, fused } of clusters) {
      const n = members.length
      const conf = members.reduce((a, m) => a + m.score, 0)
      const wsum = members.reduce((a, m) => a + m.weight, 0)
      const present = new Set(members.map((m) => m.view))
      const score = s.confidence === 'max' ? Math.max(...members.map((m) => m.score)) / Math.max(...s.viewWeights)
        : s.confidence === 'avg' ? (conf / n) * (s.allowsOverflow ? n : Math.min(s.viewWeights.length, n)) / W
          : s.confidence === 'box_and_model_avg' ? (wsum === 0 ? 0 : (conf / n) * n / wsum * sortedSum([...present].map((v) => s.viewWeights[v] ?? 0)) / W)
            : (conf / n) * n / (wsum + sortedSum(s.viewWeights.filter((_, v) => !present.has(v))))
      outs.push({ box: boxOf(fused), score, label: members[0]?.label ?? 0 })
    }
  }
  return detectionsOf(byScore(outs))
}
