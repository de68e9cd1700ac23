/**
 * The laws of box fusion, as predicates (run them with `checkFusion`, or with your own fast-check
 * property and `laws.arbitraries.fusionCase`):
 *
 * | law | statement | bound |
 * | --- | --- | --- |
 * | `fusion-order` | every method: permuting the views (with their weights) gives the same answer, in the same order | exact; for `box_and_model_avg` and `absent_model_aware_avg` only when no box occurs identically (box, score, label, weight) in two views |
 * | `wbf-copies` | WBF of n identical views returns each box of the view (clipped; below `skipThreshold` dropped) with its own score, under every confidence rule and any weights | 1e-12; only when no two boxes of a class in the view overlap above the threshold, and the threshold is below 0.99 |
 * | `nms-separation` | NMS returns (clipped) input boxes of their own class, and no two of one class overlap with IoU above its threshold | exact |
 *
 * Why every confidence rule gives s for n identical views of weights w₁…wₙ (W = Σw): a cluster holds
 * the n copies of a box of score s, so Σ sᵢwᵢ = sW, and
 * `avg` = (sW/n)·min(n, n)/W = s (also with overflow: sW/W), `max` = s·max w / max w = s,
 * `box_and_model_avg` = (sW/W)·W/W = s, `absent_model_aware_avg` = sW/(W + 0) = s.
 * A rule that forgot a factor (the view count, the weights) would fail.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Box, Detections } from '../boxes/detections.js'
import { iouOf } from '../boxes/fusion-algorithms.js'
import { fuse } from '../boxes/fusion.js'
import type { FusionOptions } from '../boxes/fusion-options.js'
import type { LawResult } from './laws.js'

const ok: LawResult = { holds: true, applied: true }
const vacuous: LawResult = { holds: true, applied: false }
const fail = (reason: string): LawResult => ({ holds: false, reason })

/**
 * The tolerance of `wbf-copies`: the fused box of n copies is Σ sᵢwᵢc / Σ sᵢwᵢ, which float64
 * rounding leaves within a few units in the last place of c.
 * @example
 * import { laws } from 'tta-lens'
 * assert.strictEqual(laws.fusionTolerance, 1e-12)
 * @category utils
 */
export const fusionTolerance = 1e-12

const show = (d: Detections): string =>
  `[${d.boxes.map((b, i) => `${d.labels[i]}:${d.scores[i]}@(${b.join(', ')})`).join('; ')}]`

const clip = (v: number): number => Math.min(Math.max(v, 0), 1)
const clipped = (b: Box): Box => [clip(b[0]), clip(b[1]), clip(b[2]), clip(b[3])]
const rect = (b: Box) => ({ x1: b[0], y1: b[1], x2: b[2], y2: b[3], area: (b[2] - b[0]) * (b[3] - b[1]) })

const sameDetections = (a: Detections, b: Detections): string | undefined => {
  if (a.boxes.length !== b.boxes.length) return `${a.boxes.length} boxes against ${b.boxes.length}`
  for (let i = 0; i < a.boxes.length; i++) {
    const x = a.boxes[i] ?? [], y = b.boxes[i] ?? []
    if (a.labels[i] !== b.labels[i] || a.scores[i] !== b.scores[i] || x.some((v, k) => v !== y[k])) {
      return `entry ${i}: ${a.labels[i]}:${a.scores[i]}@(${x.join(', ')}) against ${b.labels[i]}:${b.scores[i]}@(${y.join(', ')})`
    }
  }
  return undefined
}

/** Whether some box occurs, identically (box, score, label, weight), in two different views. */
const crossViewDuplicate = (views: readonly Detections[], weights: readonly number[] | undefined): boolean => {
  const owner = new Map<string, number>()
  for (const [v, d] of views.entries()) {
    for (const [i, b] of d.boxes.entries()) {
      const key = `${d.labels[i]}|${d.scores[i]}|${weights?.[v] ?? 1}|${b.join(',')}`
      const first = owner.get(key)
      if (first !== undefined && first !== v) return true
      owner.set(key, v)
    }
  }
  return false
}

/**
 * Fusion does not depend on the order of the views: `order` (a permutation of the view indices,
 * applied to the views and to their weights) gives exactly the same answer. For
 * `box_and_model_avg` and `absent_model_aware_avg` the law applies only when no box occurs
 * identically in two views (which view such duplicates credit may follow the order).
 * @example
 * import { laws } from 'tta-lens'
 * const views = [
 *   { boxes: [[0.1, 0.1, 0.5, 0.5]], scores: [0.5], labels: [0] },
 *   { boxes: [[0.12, 0.1, 0.5, 0.5], [0.6, 0.6, 0.9, 0.9]], scores: [0.5, 0.3], labels: [0, 1] },
 * ] as const
 * assert.ok(laws.fusionOrder(views, { method: 'wbf', weights: [1, 2] }, [1, 0]).holds)
 * @category laws
 */
export const fusionOrder = (views: readonly Detections[], options: FusionOptions, order: readonly number[]): LawResult => {
  const sorted = [...order].sort((a, b) => a - b)
  if (sorted.length !== views.length || sorted.some((v, i) => v !== i)) return fail(`order [${order.join(', ')}] is not a permutation of the ${views.length} views`)
  const modelAware = options.method === 'wbf' && (options.confidence === 'box_and_model_avg' || options.confidence === 'absent_model_aware_avg')
  if (modelAware && crossViewDuplicate(views, options.weights)) return vacuous
  const permuted = order.map((k) => views[k] ?? { boxes: [], scores: [], labels: [] })
  const weights = options.weights
  const reordered: FusionOptions = weights === undefined ? options : { ...options, weights: order.map((k) => weights[k] ?? 0) }
  const straight = fuse(views, options)
  const shuffled = fuse(permuted, reordered)
  if (E.isLeft(straight) || E.isLeft(shuffled)) {
    return E.isLeft(straight) && E.isLeft(shuffled) ? vacuous : fail(`'${options.method}' fails in one order but not in the other`)
  }
  const d = sameDetections(shuffled.right, straight.right)
  return d === undefined ? ok : fail(`'${options.method}' of ${views.length} views depends on their order ([${order.join(', ')}]): ${d}`)
}

/**
 * What WBF of identical views must return: each box of `view` whose score is at least the skip
 * threshold and whose clipped area is not 0, clipped, with its own score.
 * @example
 * import { laws } from 'tta-lens'
 * const view = { boxes: [[-0.1, 0, 0.5, 0.5], [0.6, 0.6, 0.9, 0.9]], scores: [0.8, 0.05], labels: [0, 1] } as const
 * assert.deepStrictEqual(laws.expectedWbfOfCopies(view, 0.1), { boxes: [[0, 0, 0.5, 0.5]], scores: [0.8], labels: [0] })
 * @category utils
 */
export const expectedWbfOfCopies = (view: Detections, skipThreshold: number): Detections => {
  const keep = view.boxes.flatMap((b, i) => {
    const c = clipped(b)
    const s = view.scores[i] ?? 0
    return s >= skipThreshold && rect(c).area > 0 ? [{ b: c, s, l: view.labels[i] ?? 0 }] : []
  })
  return { boxes: keep.map((k) => k.b), scores: keep.map((k) => k.s), labels: keep.map((k) => k.l) }
}

const byBox = (d: Detections) =>
  d.boxes.map((b, i) => ({ b, s: d.scores[i] ?? 0, l: d.labels[i] ?? 0 }))
    .sort((p, q) => p.l - q.l || p.b[0] - q.b[0] || p.b[1] - q.b[1] || p.b[2] - q.b[2] || p.b[3] - q.b[3] || p.s - q.s)

/**
 * WBF of n identical views returns the view's boxes, each with its own score, whatever the
 * confidence rule and the view weights (the module header derives it per rule). Applies when no
 * two boxes of a class in the view overlap above `iouThreshold` (they would fuse) and the threshold
 * is below 0.99 (at 1 no two boxes ever match, so the copies stay apart).
 * @example
 * import { laws } from 'tta-lens'
 * const view = { boxes: [[0.1, 0.1, 0.5, 0.5], [0.6, 0.6, 0.9, 0.9]], scores: [0.8, 0.3], labels: [0, 0] } as const
 * for (const confidence of ['avg', 'max', 'box_and_model_avg', 'absent_model_aware_avg'] as const) {
 *   assert.ok(laws.wbfOfCopies(view, 3, { method: 'wbf', confidence, weights: [1, 0.5, 2] }).holds)
 * }
 * @category laws
 */
export const wbfOfCopies = (view: Detections, n: number, options: Extract<FusionOptions, { readonly method: 'wbf' }>): LawResult => {
  const threshold = options.iouThreshold ?? 0.55
  const expected = expectedWbfOfCopies(view, options.skipThreshold ?? 0)
  if (threshold > 0.99) return vacuous
  for (let i = 0; i < expected.boxes.length; i++) {
    for (let j = i + 1; j < expected.boxes.length; j++) {
      const a = expected.boxes[i], b = expected.boxes[j]
      if (a !== undefined && b !== undefined && expected.labels[i] === expected.labels[j] && iouOf(rect(a), rect(b)) > threshold - 1e-9) return vacuous
    }
  }
  const fused = fuse(Array.from({ length: n }, () => view), options)
  if (E.isLeft(fused)) return fail(`WBF of ${n} copies fails: ${fused.left.message}`)
  const got = byBox(fused.right)
  const want = byBox(expected)
  const where = `WBF ('${options.confidence ?? 'avg'}'${options.allowsOverflow === true ? ', overflow' : ''}, weights [${options.weights?.join(', ') ?? 'none'}]) of ${n} copies`
  if (got.length !== want.length) return fail(`${where} returns ${show(fused.right)}, expected ${show(expected)}`)
  let error = 0
  for (const [k, w] of want.entries()) {
    const g = got[k]
    if (g === undefined || g.l !== w.l) return fail(`${where} returns ${show(fused.right)}, expected ${show(expected)}`)
    error = Math.max(error, Math.abs(g.s - w.s), ...g.b.map((v, c) => Math.abs(v - (w.b[c] ?? Number.NaN))))
    if (!(error <= fusionTolerance)) return fail(`${where}: box ${k} of class ${w.l} is ${g.s}@(${g.b.join(', ')}), expected ${w.s}@(${w.b.join(', ')})`)
  }
  return { holds: true, applied: true, error }
}

/**
 * NMS keeps (clipped) input boxes of their own class and never two of one class whose IoU is above
 * its threshold.
 * @example
 * import { laws } from 'tta-lens'
 * const views = [{ boxes: [[0.1, 0.1, 0.5, 0.5], [0.15, 0.1, 0.55, 0.5]], scores: [0.9, 0.8], labels: [0, 0] }] as const
 * assert.ok(laws.nmsSeparation(views, { method: 'nms', iouThreshold: 0.5 }).holds)
 * @category laws
 */
export const nmsSeparation = (views: readonly Detections[], options: Extract<FusionOptions, { readonly method: 'nms' }>): LawResult => {
  const threshold = options.iouThreshold ?? 0.5
  const fused = fuse(views, options)
  if (E.isLeft(fused)) return fail(`NMS fails: ${fused.left.message}`)
  const { boxes, labels } = fused.right
  const inputs = new Set(views.flatMap((d) => d.boxes.map((b, i) => `${d.labels[i]}|${clipped(b).join(',')}`)))
  for (const [i, b] of boxes.entries()) {
    if (!inputs.has(`${labels[i]}|${b.join(',')}`)) return fail(`NMS returns box ${i} (${b.join(', ')}) of class ${labels[i]}, which no view has`)
    for (let j = i + 1; j < boxes.length; j++) {
      const o = boxes[j]
      if (o === undefined || labels[j] !== labels[i]) continue
      const v = iouOf(rect(b), rect(o))
      if (v > threshold) return fail(`NMS keeps boxes ${i} and ${j} of class ${labels[i]} with IoU ${v} > ${threshold}: ${show(fused.right)}`)
    }
  }
  return ok
}
