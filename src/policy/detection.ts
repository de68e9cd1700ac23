/**
 * Policy search for detectors: the same greedy search as for classifiers, on cached per-view
 * detections (each view's boxes already mapped back into the image's frame, as `wrap.detection`
 * returns them with `keepViews`), scored by a set-level score the caller gives (box F1 at an IoU,
 * say). Step 0 is the single pass (the identity's own boxes); step 1 the best single view (a larger
 * rescale can beat the single pass without being TTA); every later step adds the view and the
 * combination that most raise the score, and must raise it: a fusion of the views' boxes
 * (`boxes.fuse`: weighted boxes fusion, NMS, soft-NMS, NMW) or, when the caller can give them, a
 * merge of the views' maps before the post-processing (mean or max of a text detector's probability
 * maps, as `wrap.segmentation` merges them). So the result is never worse than no TTA, and a single view that beats
 * every merge is what it returns.
 *
 * A detection policy file (`format: "tta-lens-detection-policy"`, version 1) holds the views (as
 * data), the fusion or the map merge (neither for a one-view policy: its boxes are used as they are),
 * and the search's record. {@link productOfViews} builds its views for an image's size; {@link applyDetectionPolicy}
 * fuses one image's per-view detections as the policy says.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { policyError, type PolicyError, type TtaError } from '../errors.js'
import type { Detections } from '../boxes/detections.js'
import { fuse } from '../boxes/fusion.js'
import { FusionOptionsCodec, type FusionOptions } from '../boxes/fusion-options.js'
import { viewName, ViewOpCodec, type ViewOps } from './views.js'

/** The JSON of a detection policy file (version 1), as an io-ts codec. @category model */
export const DetectionPolicyCodec = t.intersection([
  t.type({
    format: t.literal('tta-lens-detection-policy'),
    version: t.literal(1),
    views: t.array(t.type({ name: t.string, ops: t.array(ViewOpCodec) })),
  }),
  t.partial({
    fusion: FusionOptionsCodec,
    mapMerge: t.keyof({ mean: null, max: null }),
    model: t.partial({ name: t.string, sha256: t.string }),
    selection: t.type({ items: t.number, score: t.number, baseline: t.number }),
    search: t.type({
      budget: t.type({ views: t.number }),
      pool: t.array(t.string),
      steps: t.array(t.type({ step: t.number, action: t.string, view: t.string, fusion: t.string, score: t.number, better: t.number, worse: t.number })),
      command: t.string,
    }),
  }),
])
/** A detection policy file's content. @category model */
export type DetectionPolicy = t.TypeOf<typeof DetectionPolicyCodec>

/**
 * Decodes a detection policy file: `corrupt` when it is not one, `version` when it is newer.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { decodeDetectionPolicy } from 'tta-lens'
 * const p = decodeDetectionPolicy({ format: 'tta-lens-detection-policy', version: 1, views: [{ name: 'scale 1.5', ops: [{ op: 'scale', factor: 1.5 }] }] })
 * assert.ok(E.isRight(p) && p.right.fusion === undefined)
 * const newer = decodeDetectionPolicy({ format: 'tta-lens-detection-policy', version: 3, views: [] })
 * assert.ok(E.isLeft(newer) && newer.left.problem === 'version')
 * @category constructors
 */
export const decodeDetectionPolicy = (json: unknown): E.Either<PolicyError, DetectionPolicy> => {
  const version = typeof json === 'object' && json !== null && 'version' in json ? json.version : undefined
  if (typeof version === 'number' && Number.isInteger(version) && version > 1) {
    return E.left(policyError('version', `this detection policy has format version ${version}, but this tta-lens reads up to version 1`))
  }
  const decoded = DetectionPolicyCodec.decode(json)
  if (E.isLeft(decoded)) return E.left(policyError('corrupt', 'not a version-1 detection policy: { "format": "tta-lens-detection-policy", "version": 1, "views": [...], "fusion"? }'))
  if (decoded.right.views.length === 0) return E.left(policyError('corrupt', 'a detection policy needs at least one view'))
  if (decoded.right.fusion !== undefined && decoded.right.mapMerge !== undefined) return E.left(policyError('corrupt', 'a detection policy has a fusion of boxes or a merge of maps, not both'))
  if (decoded.right.views.length > 1 && decoded.right.fusion === undefined && decoded.right.mapMerge === undefined) return E.left(policyError('corrupt', 'a detection policy of several views needs a fusion or a map merge'))
  return E.right(decoded.right)
}

/** One image's detections (pixels) scaled to [0, 1] of its size, and back. */
const scaled = (d: Detections, sx: number, sy: number): Detections => ({
  boxes: d.boxes.map(([x1, y1, x2, y2]) => [x1 * sx, y1 * sy, x2 * sx, y2 * sy] as const),
  scores: d.scores,
  labels: d.labels,
})

/**
 * One image's detections under a policy: the views' detections (in pixels of the image, in the
 * policy's view order) fused by its fusion, or the one view's as they are.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { applyDetectionPolicy } from 'tta-lens'
 * const a = { boxes: [[10, 10, 50, 30]], scores: [0.9], labels: [0] } as const
 * const b = { boxes: [[12, 10, 52, 30]], scores: [0.7], labels: [0] } as const
 * const fused = applyDetectionPolicy([a, b], 100, 100, { method: 'wbf' })
 * assert.ok(E.isRight(fused) && fused.right.boxes.length === 1)
 * assert.deepStrictEqual(applyDetectionPolicy([a], 100, 100, undefined), E.right(a))
 * @category combinators
 */
export const applyDetectionPolicy = (views: readonly Detections[], width: number, height: number, fusion: FusionOptions | undefined): E.Either<TtaError, Detections> => {
  const [only] = views
  if (fusion === undefined || views.length === 1) return only === undefined ? E.left(policyError('corrupt', 'no view to apply')) : E.right(only)
  return E.Functor.map(fuse(views.map((d) => scaled(d, 1 / width, 1 / height)), fusion), (d) => scaled(d, width, height))
}

/** A set-level score of one answer per image (higher is better), with each image's own score for the better/worse counts. @category model */
export type DetectionScore = (answers: readonly Detections[]) => { readonly value: number; readonly perImage: readonly number[] }

/** How a detection policy can merge its views' maps before the post-processing. @category model */
export type MapMerge = 'mean' | 'max'

/**
 * Map merges for the detection search: which to try, and image i's detections from the maps of a
 * set of views (pool indices, in the set's order) merged that way — the caller's post-processing
 * of a merged map (for a text detector: `textdet.dbDetections()` of the mean or max of the views'
 * deaugmented probability maps).
 * @category model
 */
export interface MapMerges {
  readonly merges: readonly MapMerge[]
  readonly answer: (views: readonly number[], merge: MapMerge, image: number) => E.Either<TtaError, Detections>
}

/** One row of the detection search's step table. @category model */
export interface DetectionStep {
  readonly step: number
  readonly action: 'none' | 'add'
  readonly views: readonly number[]
  /** The fusion of the views' boxes; undefined for one view or a map merge. */
  readonly fusion: FusionOptions | undefined
  /** The merge of the views' maps; undefined for one view or a box fusion. */
  readonly mapMerge?: MapMerge
  readonly score: number
  /** Images whose own score rose / fell against the step before. */
  readonly better: number
  readonly worse: number
}

/** What the detection search found. @category model */
export interface DetectionSearchResult {
  readonly steps: readonly DetectionStep[]
  readonly views: readonly number[]
  readonly fusion: FusionOptions | undefined
  readonly mapMerge?: MapMerge
  readonly baseline: DetectionStep
  readonly chosen: DetectionStep
}

/** Fusion methods tried by default (each with ensemble-boxes' default parameters). @category model */
export const defaultFusions: readonly FusionOptions[] = [{ method: 'wbf' }, { method: 'nms' }, { method: 'soft-nms' }, { method: 'nmw' }]

/**
 * A fusion (or a map merge) in words.
 * @example
 * import { describeFusion } from 'tta-lens'
 * assert.strictEqual(describeFusion({ method: 'wbf' }), 'wbf')
 * assert.strictEqual(describeFusion(undefined, 'mean'), 'mean of maps')
 * assert.strictEqual(describeFusion(undefined), 'none (one view)')
 * @category utils
 */
export const describeFusion = (f: FusionOptions | undefined, mapMerge?: MapMerge): string =>
  (mapMerge !== undefined ? `${mapMerge} of maps` : f === undefined ? 'none (one view)' : f.method)

/**
 * Greedy search over cached per-view detections: `views[v][i]` is view v's detections of image i
 * (pixels of the image), `sizes[i]` the image's width and height; view 0 must be the identity.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { searchDetectionPolicy } from 'tta-lens'
 * // Two images with one object each; the identity misses the second, view 1 finds both.
 * const hit = (x: number) => ({ boxes: [[x, 10, x + 20, 30]], scores: [0.9], labels: [0] } as const)
 * const miss = { boxes: [], scores: [], labels: [] }
 * const views = [[hit(10), miss], [hit(10), hit(50)]]
 * const found = (answers: readonly { boxes: readonly unknown[] }[]) => ({ value: answers.filter((a) => a.boxes.length > 0).length, perImage: answers.map((a) => a.boxes.length) })
 * const result = searchDetectionPolicy(views, [[100, 100], [100, 100]], found, { budget: { views: 2 } })
 * assert.ok(E.isRight(result) && result.right.baseline.score === 1 && result.right.chosen.score === 2)
 * @category evaluation
 */
export const searchDetectionPolicy = (
  views: readonly (readonly Detections[])[],
  sizes: readonly (readonly [number, number])[],
  score: DetectionScore,
  options: {
    readonly budget: { readonly views: number }
    readonly fusions?: readonly FusionOptions[]
    /** Merges of the views' maps to try beside the box fusions. */
    readonly maps?: MapMerges
    readonly onStep?: (step: DetectionStep) => void
  },
): E.Either<TtaError, DetectionSearchResult> => {
  const budget = options.budget.views
  if (!Number.isInteger(budget) || budget < 1) return E.left(policyError('budget', `a search budget is a whole number of views ≥ 1, got ${String(budget)}`))
  const images = sizes.length
  if (views.length === 0) return E.left(policyError('candidate', 'the candidate pool is empty'))
  const short = views.findIndex((v) => v.length !== images)
  if (short >= 0) return E.left(policyError('candidate', `candidate ${short} has detections for ${views[short]?.length} images, not ${images}`))
  const fusions = options.fusions ?? defaultFusions
  type Combination = { readonly fusion: FusionOptions | undefined; readonly mapMerge?: MapMerge }
  const combinations: readonly Combination[] = [...fusions.map((fusion) => ({ fusion })), ...(options.maps?.merges ?? []).map((mapMerge) => ({ fusion: undefined, mapMerge }))]
  const maps = options.maps
  const answersOf = (set: readonly number[], { fusion, mapMerge }: Combination): E.Either<TtaError, readonly Detections[]> => {
    const out: Detections[] = []
    for (let i = 0; i < images; i++) {
      const [w = 1, h = 1] = sizes[i] ?? []
      const fused = set.length > 1 && mapMerge !== undefined && maps !== undefined
        ? maps.answer(set, mapMerge, i)
        : applyDetectionPolicy(set.map((v) => views[v]?.[i] ?? { boxes: [], scores: [], labels: [] }), w, h, set.length === 1 ? undefined : fusion)
      if (E.isLeft(fused)) return fused
      out.push(fused.right)
    }
    return E.right(out)
  }
  const steps: DetectionStep[] = []
  const record = (s: DetectionStep): void => { steps.push(s); options.onStep?.(s) }
  const base = answersOf([0], { fusion: undefined })
  if (E.isLeft(base)) return base
  const baseScore = score(base.right)
  const baseline: DetectionStep = { step: 0, action: 'none', views: [0], fusion: undefined, score: baseScore.value, better: 0, worse: 0 }
  record(baseline)
  let current = { set: [] as number[], combination: { fusion: undefined } as Combination, value: baseScore.value, perImage: baseScore.perImage }
  while (current.set.length < budget) {
    let best: { set: number[]; combination: Combination; value: number; perImage: readonly number[] } | undefined
    for (let v = 0; v < views.length; v++) {
      if (current.set.includes(v)) continue
      const set = [...current.set, v]
      for (const combination of set.length === 1 ? [{ fusion: undefined }] : combinations) {
        const answers = answersOf(set, combination)
        if (E.isLeft(answers)) return answers
        const s = score(answers.right)
        if (best === undefined || s.value > best.value) best = { set, combination, ...s }
      }
    }
    // The first view may be the identity itself (the single pass); every later one must raise the score.
    if (best === undefined || (current.set.length > 0 && !(best.value > current.value)) || (current.set.length === 0 && best.value < current.value)) break
    const better = best.perImage.filter((s, i) => s > (current.perImage[i] ?? 0)).length
    const worse = best.perImage.filter((s, i) => s < (current.perImage[i] ?? 0)).length
    current = best
    const { fusion, mapMerge } = best.combination
    record({ step: steps.length, action: 'add', views: [...best.set], fusion, ...(mapMerge === undefined ? {} : { mapMerge }), score: best.value, better, worse })
  }
  const chosen = steps[steps.length - 1] ?? baseline
  return E.right({ steps, views: chosen.views, fusion: chosen.fusion, ...(chosen.mapMerge === undefined ? {} : { mapMerge: chosen.mapMerge }), baseline, chosen })
}

/**
 * The detection policy file of a search's result.
 * @category constructors
 */
export const detectionPolicyFromSearch = (
  result: DetectionSearchResult,
  pool: readonly ViewOps[],
  record: { readonly items: number; readonly budget: number; readonly command: string; readonly model?: { readonly name?: string; readonly sha256?: string } },
): DetectionPolicy => ({
  format: 'tta-lens-detection-policy',
  version: 1,
  views: result.views.map((v) => ({ name: viewName(pool[v] ?? []), ops: [...(pool[v] ?? [])] })),
  ...(result.views.length > 1 && result.fusion !== undefined ? { fusion: result.fusion } : {}),
  ...(result.views.length > 1 && result.mapMerge !== undefined ? { mapMerge: result.mapMerge } : {}),
  ...(record.model === undefined ? {} : { model: { ...record.model } }),
  selection: { items: record.items, score: result.chosen.score, baseline: result.baseline.score },
  search: {
    budget: { views: record.budget },
    pool: pool.map(viewName),
    steps: result.steps.map((s) => ({
      step: s.step, action: s.action, view: s.step === 0 ? 'identity' : viewName(pool[s.views[s.views.length - 1] ?? 0] ?? []),
      fusion: describeFusion(s.fusion, s.mapMerge), score: s.score, better: s.better, worse: s.worse,
    })),
    command: record.command,
  },
})
