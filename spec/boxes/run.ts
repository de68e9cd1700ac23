/**
 * The box-fusion parity runner: maps each ensemble-boxes call of a reference file onto `fuse`, runs
 * it through the same checks a user's data meets, and says how our answer relates to the
 * reference's — exact, within {@link tolerance}, or a documented deviation whose own behaviour is
 * checked here. Anything else is a mismatch, and the suite fails on it.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { boxes, type TtaError } from '../../src/index.js'
import type { BoxCase, GoldenOut, GoldenView } from './golden.js'

/**
 * Largest |ours − reference| accepted as "within tolerance". ensemble-boxes builds WBF's and NMW's
 * fused boxes in float32 (`np.zeros(8, dtype=np.float32)`): each running sum of score × coordinate
 * (≤ 15 for 5 views of weight 3) and each fused score is rounded to float32, so after the division
 * a coordinate may be off by a few units of 2⁻²⁴ relative to that sum — about 3·10⁻⁷ for 5 boxes —
 * and scores (≤ 5 with overflow) by a few 10⁻⁷. We compute in float64. Measured: 1.1·10⁻⁷.
 */
export const tolerance = 1e-6

/** Why a case is a deviation; docs/boxes.md explains each. */
export type Deviation =
  /** nms / soft_nms raise (`need at least one array to concatenate`) when no box is left; ours: the empty answer. */
  | 'reference-raises-on-empty'
  /** Both refuse: the reference raises or exits, ours is a typed error. */
  | 'both-refuse'
  /** The reference answers after a warning (swapped corners, a wrong weight count, coordinates far outside [0, 1]); ours is a typed error. */
  | 'we-refuse'
  /** The reference returns NaN (a cluster whose weighted scores are all 0); ours: the documented limit, every other value as the reference's. */
  | 'reference-nan'
  /** Same boxes and scores, but entries with equal scores come in another order (ties: ours by the boxes, the reference by numpy's sort). */
  | 'tie-order'
  /**
   * Two boxes of a class have equal (weighted) scores and the answers differ: which of them is kept
   * or ranked first (and so the clusters) follows our tie rule, not numpy's sort order. Accepted only
   * when the input has such a tie; ours is checked by the order-invariance law instead.
   */
  | 'tie-break'

export type Verdict =
  | { readonly kind: 'exact' }
  | { readonly kind: 'close'; readonly maxAbs: number }
  | { readonly kind: 'deviation'; readonly deviation: Deviation; readonly note: string }
  | { readonly kind: 'mismatch'; readonly reason: string }

/** Our options for a reference call (as untyped data: our parser judges them, as it would a user's config). */
export const optionsOf = (c: BoxCase): Readonly<Record<string, unknown>> => {
  const p = c.params
  const weights = p.weights === null || p.weights === undefined ? {} : { weights: p.weights }
  const set = (key: string, v: unknown): Readonly<Record<string, unknown>> => (v === undefined ? {} : { [key]: v })
  switch (c.function) {
    case 'wbf':
      return {
        method: 'wbf', ...weights, ...set('iouThreshold', c.params.iou_thr), ...set('skipThreshold', c.params.skip_box_thr),
        ...set('confidence', c.params.conf_type), ...set('allowsOverflow', c.params.allows_overflow),
      }
    case 'nms':
      return { method: 'nms', ...weights, ...set('iouThreshold', c.params.iou_thr) }
    case 'nmw':
      return { method: 'nmw', ...weights, ...set('iouThreshold', c.params.iou_thr), ...set('skipThreshold', c.params.skip_box_thr) }
    case 'soft_nms': {
      // ensemble-boxes' nms_method: 1 linear, 2 gaussian (soft_nms' default), 3 plain NMS (its fast path:
      // sigma and thresh unused). The golden README's "2 = linear, 3 = gaussian" does not match the code.
      const method = c.params.method ?? 2
      if (method === 3) return { method: 'nms', ...weights, ...set('iouThreshold', c.params.iou_thr) }
      return {
        method: 'soft-nms', kernel: method === 1 ? 'linear' : method === 2 ? 'gaussian' : `ensemble-boxes method ${method}`, ...weights,
        ...set('iouThreshold', c.params.iou_thr), ...set('sigma', c.params.sigma), ...set('scoreThreshold', c.params.thresh), scores: 'original',
      }
    }
  }
}

/** Runs a case through our checks and `fuse`, with options as given (`optionsOf`) or changed. */
export const runCase = (c: BoxCase, options: Readonly<Record<string, unknown>> = optionsOf(c)): E.Either<TtaError, boxes.Detections> => {
  const parsed = boxes.parseFusionOptions(options)
  if (E.isLeft(parsed)) return parsed
  const views: boxes.Detections[] = []
  for (const [i, v] of c.views.entries()) {
    const checked = boxes.checkDetections(v, `view ${i}`)
    if (E.isLeft(checked)) return checked
    views.push(checked.right)
  }
  return boxes.fuse(views, parsed.right)
}

/** Our refusals that answer a reference warning: each names the rule it enforces. */
const documentedRefusals: readonly RegExp[] = [
  /x2 = .* < x1|y2 = .* < y1/, // the reference swaps the corners
  /fusion takes normalised coordinates/, // far outside [0, 1]: the reference clips (usually pixels)
  /weights has \d+ entr(y|ies) for \d+ views?/, // the reference falls back to equal weights (or none)
  /labels must be non-negative integers/, // the reference truncates with int()
  /coordinates must be finite|scores must be within \[0, 1\]/, // the reference computes with them
  /each box needs one score and one label/, // the reference exits
  /fusion option .* must be/, // a threshold out of range, sigma ≤ 0, an unknown conf_type: the reference runs (or exits)
]

const flat = (d: { readonly boxes: readonly (readonly number[])[]; readonly scores: readonly number[] }): readonly number[] =>
  [...d.boxes.flatMap((b) => [...b]), ...d.scores]

const sameStructure = (ours: boxes.Detections, ref: GoldenOut): string | undefined => {
  if (ours.boxes.length !== ref.boxes.length) return `${ours.boxes.length} boxes, the reference ${ref.boxes.length}`
  const k = ref.labels.findIndex((l, i) => l !== ours.labels[i])
  if (k >= 0) return `entry ${k} has label ${ours.labels[k]}, the reference ${ref.labels[k]}`
  if (ref.boxes.some((b) => b.length !== 4)) return 'the reference returned a box that is not 4 numbers'
  return undefined
}

/** max |a − b| over finite pairs, and whether every pair is equal (`===`, or NaN in the reference where `nanOk`). */
const compareValues = (ours: readonly number[], ref: readonly number[]): { readonly maxAbs: number; readonly exact: boolean; readonly refNaN: number } => {
  let maxAbs = 0
  let exact = true
  let refNaN = 0
  for (const [i, r] of ref.entries()) {
    const o = ours[i] ?? Number.NaN
    if (Number.isNaN(r)) { refNaN++; exact = false; continue }
    if (o !== r) exact = false
    maxAbs = Math.max(maxAbs, Number.isFinite(o) ? Math.abs(o - r) : Number.POSITIVE_INFINITY)
  }
  return { maxAbs, exact, refNaN }
}

/** The entries sorted by (score desc, label, box), for the tie-order check. */
const canonicalEntries = (d: { readonly boxes: readonly (readonly number[])[]; readonly scores: readonly number[]; readonly labels: readonly number[] }) =>
  d.scores.map((s, i) => ({ s, l: d.labels[i] ?? 0, b: d.boxes[i] ?? [] }))
    .sort((a, b) => b.s - a.s || a.l - b.l || (a.b[0] ?? 0) - (b.b[0] ?? 0) || (a.b[1] ?? 0) - (b.b[1] ?? 0) || (a.b[2] ?? 0) - (b.b[2] ?? 0) || (a.b[3] ?? 0) - (b.b[3] ?? 0))

const allViewsEmptyAfterClipping = (views: readonly GoldenView[]): boolean =>
  views.every((v) => v.boxes.every((b) => {
    const [x1 = 0, y1 = 0, x2 = 0, y2 = 0] = b.map((x) => Math.min(Math.max(x, 0), 1))
    return (x2 - x1) * (y2 - y1) === 0
  }))

/** Whether two boxes of one class have the same score after view weighting (as the method weights them). */
export const hasScoreTie = (c: BoxCase): boolean => {
  const w = c.params.weights ?? null
  const weights = w === null || w.length !== c.views.length ? c.views.map(() => 1) : w
  const total = weights.reduce((a, b) => a + b, 0)
  const heaviest = Math.max(...weights)
  const seen = new Set<string>()
  for (const [t, v] of c.views.entries()) {
    const wt = weights[t] ?? 1
    for (const [j, s] of v.scores.entries()) {
      const score = c.function === 'wbf' ? s * wt : c.function === 'nmw' ? s * (wt / heaviest) : w === null ? s : (s * wt) / total
      const key = `${v.labels[j]}:${score}`
      if (seen.has(key)) return true
      seen.add(key)
    }
  }
  return false
}

/** Judges one case (see {@link Verdict}); `ours` defaults to running it. */
export const judge = (c: BoxCase, ours: E.Either<TtaError, boxes.Detections> = runCase(c)): Verdict => {
  if (c.error !== undefined) {
    if (E.isLeft(ours)) return { kind: 'deviation', deviation: 'both-refuse', note: `reference ${c.error.type}: ${c.error.message}; ours ${ours.left._tag}: ${ours.left.message}` }
    const emptyRaise = c.error.type === 'ValueError' && /need at least one array to concatenate/.test(c.error.message)
    if (emptyRaise && (c.function === 'nms' || c.function === 'soft_nms') && ours.right.boxes.length === 0 && allViewsEmptyAfterClipping(c.views)) {
      return { kind: 'deviation', deviation: 'reference-raises-on-empty', note: `${c.views.length} views, no box: ours is the empty answer` }
    }
    return { kind: 'mismatch', reason: `the reference raised ${c.error.type}: ${c.error.message}; ours answered ${JSON.stringify(ours.right)}` }
  }
  const ref = c.out
  if (ref === undefined) return { kind: 'mismatch', reason: 'the case has neither out nor error' }
  if (E.isLeft(ours)) {
    const documented = documentedRefusals.some((r) => r.test(ours.left.message))
    return documented
      ? { kind: 'deviation', deviation: 'we-refuse', note: `${ours.left._tag}: ${ours.left.message}` }
      : { kind: 'mismatch', reason: `the reference answered; ours ${ours.left._tag}: ${ours.left.message}` }
  }
  const got = ours.right
  const structure = sameStructure(got, ref)
  if (structure === undefined) {
    const v = compareValues(flat(got), flat(ref))
    if (v.refNaN > 0) {
      const finite = flat(got).every(Number.isFinite)
      return finite && v.maxAbs <= tolerance
        ? { kind: 'deviation', deviation: 'reference-nan', note: `${v.refNaN} NaN value(s) in the reference; ours finite, the rest within ${v.maxAbs.toExponential(2)}` }
        : { kind: 'mismatch', reason: `the reference has NaN and ours differs elsewhere (max ${v.maxAbs})` }
    }
    if (v.exact) return { kind: 'exact' }
    if (v.maxAbs <= tolerance) return { kind: 'close', maxAbs: v.maxAbs }
  }
  // Same entries in another order among equal scores?
  if (got.boxes.length === ref.boxes.length) {
    const a = canonicalEntries(got)
    const b = canonicalEntries(ref)
    const v = compareValues(a.flatMap((e) => [...e.b, e.s, e.l]), b.flatMap((e) => [...e.b, e.s, e.l]))
    const tied = ref.scores.some((s, i) => ref.scores.indexOf(s) !== i)
    if (tied && v.refNaN === 0 && v.maxAbs <= tolerance) return { kind: 'deviation', deviation: 'tie-order', note: 'the same entries; equal scores in another order' }
  }
  if (hasScoreTie(c)) return { kind: 'deviation', deviation: 'tie-break', note: 'equal scores in a class: ours broken by the boxes, the reference by numpy\'s sort' }
  return { kind: 'mismatch', reason: structure ?? `values differ by up to ${compareValues(flat(got), flat(ref)).maxAbs}` }
}

/** Counts verdicts per function, for the summary lines the suite prints (docs/boxes.md quotes them). */
export const tally = () => {
  interface Group { cases: number; exact: number; close: number; maxAbs: number; deviations: Map<Deviation, number>; mismatches: number }
  const groups = new Map<string, Group>()
  const record = (name: string, v: Verdict): void => {
    const g = groups.get(name) ?? { cases: 0, exact: 0, close: 0, maxAbs: 0, deviations: new Map(), mismatches: 0 }
    groups.set(name, g)
    g.cases++
    if (v.kind === 'exact') g.exact++
    else if (v.kind === 'close') { g.close++; g.maxAbs = Math.max(g.maxAbs, v.maxAbs) }
    else if (v.kind === 'deviation') g.deviations.set(v.deviation, (g.deviations.get(v.deviation) ?? 0) + 1)
    else g.mismatches++
  }
  const line = (name: string, g: Group): string => {
    const devs = [...g.deviations.values()].reduce((a, n) => a + n, 0)
    const kinds = [...g.deviations.entries()].map(([d, n]) => `${d} ${n}`).join(', ')
    return `${name}: ${g.cases} cases — exact ${g.exact}, within tolerance ${g.close} (max abs err ${g.maxAbs.toExponential(2)}), ` +
      `deviations ${devs}${kinds === '' ? '' : ` (${kinds})`}${g.mismatches > 0 ? `, MISMATCHES ${g.mismatches}` : ''}`
  }
  const summary = (source: string): readonly string[] => {
    const all: Group = { cases: 0, exact: 0, close: 0, maxAbs: 0, deviations: new Map(), mismatches: 0 }
    for (const g of groups.values()) {
      all.cases += g.cases; all.exact += g.exact; all.close += g.close; all.mismatches += g.mismatches
      all.maxAbs = Math.max(all.maxAbs, g.maxAbs)
      for (const [d, n] of g.deviations) all.deviations.set(d, (all.deviations.get(d) ?? 0) + n)
    }
    return [...[...groups.entries()].map(([name, g]) => `boxes parity[${name}]: ${line(name, g).slice(name.length + 2)}`), `boxes parity (${source}): ${line('all', all).slice(5)}`]
  }
  return { record, summary, groups }
}
