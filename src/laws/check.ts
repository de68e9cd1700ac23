/**
 * `check`: runs every law that applies to each view of a transform — built-in or custom, a single
 * factor or a whole product — with fast-check, and returns the first violation or a report of what
 * ran. It never throws and imports no test runner, so it works in a test, a script or a REPL.
 *
 * Which laws run for a view, by its kind and by what the product can undo:
 *
 * | view | laws |
 * | --- | --- |
 * | every view | `shape`, `bounds`, `label`, and `simplify` when it has no Add/Multiply |
 * | kind `iso`, undoes masks | `iso` |
 * | kind `retraction`, undoes masks | `retraction` |
 * | kind `lossy`, undoes masks | `lossy` (on smooth images, against `lossyBound`) |
 * | kind `invariant`, undoes masks | `invariant` |
 * | undoes keypoints | `keypoints`; plus `keypoint-pixel` for iso views made of flips, turns and custom gathers |
 * | undoes boxes | `box-round-trip` (against `boxTolerance`) and `box-pixel` (against `boxBound`) |
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import type { ParamError } from '../errors.js'
import { checkProduct, product, views, type AnyFactor, type Product, type ViewSpec } from '../algebra/product.js'
import { runnableViews } from '../backend/reference/views.js'
import { mergeModes, type MergeMode } from '../merge/merge.js'
import { confidenceRules, fusionMethods, type FusionMethod } from '../boxes/fusion-options.js'
import type { Target } from '../transform/factor.js'
import type { Step } from '../transform/step.js'
import * as A from './arbitraries.js'
import * as L from './laws.js'
import * as F from './fusion.js'

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * What `check` accepts: a factor, a product, or either of them still inside `custom`'s or a
 * built-in's `Either`.
 * @example
 * import { aliases, laws, transforms as T } from 'tta-lens'
 * const subjects: readonly laws.Checkable[] = [T.hflip(), aliases.d4(), T.scale([2])]
 * assert.strictEqual(subjects.length, 3)
 * @category model
 */
export type Checkable =
  | AnyFactor
  | Product<readonly AnyFactor[]>
  | E.Either<ParamError, AnyFactor | Product<readonly AnyFactor[]>>

/**
 * How hard {@link check} tries: runs per law, a seed to replay a failure, tolerances and image sizes.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws } from 'tta-lens'
 * const options: laws.CheckOptions = { numRuns: 250, seed: 42, pointTolerance: 0, images: { maxSide: 16 } }
 * const report = laws.check(aliases.d4(), options)
 * assert.ok(E.isRight(report) && report.right.minRuns === 250)
 * @category model
 */
export interface CheckOptions {
  /** Runs per law and view; default 200. */
  readonly numRuns?: number
  /** fast-check seed, to replay a failure. */
  readonly seed?: number
  /** Largest `max |undo(do(x)) − x|` a lossy view may show on a smooth image; default {@link defaultLossyBound}. */
  readonly lossyBound?: L.LossyBound
  /** Tolerance of the keypoint round trip; default 1e-6 (flips and turns are exact: pass 0). */
  readonly pointTolerance?: number
  /** Tolerance of the box round trip through scales, resizes and custom maps, in input pixels; default 1e-9 (flips, turns, crops, tiles and shifts are held to 0). */
  readonly boxTolerance?: number
  /** Allowance of the box/pixel law for views that resample; default {@link defaultBoxBound}. */
  readonly boxBound?: L.BoxBound
  /** Sizes of the random images (default: n 1–2, c 1–3, non-square h, w in 1–9). */
  readonly images?: A.ImageConstraints
  /** Sizes of the smooth images of the lossy law (default: sides 8–24, non-square). */
  readonly smooth?: A.ImageConstraints
}

/**
 * One law checked on one view.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws } from 'tta-lens'
 * const report = laws.check(aliases.vflip())
 * const runs: readonly laws.LawRun[] = E.isRight(report) ? report.right.laws : []
 * assert.ok(runs.every((r) => r.numRuns === 200))
 * @category model
 */
export interface LawRun {
  readonly law: L.LawName
  /** The view's name (for D4 laws `D4`, for merge laws the merge mode). */
  readonly view: string
  readonly viewIndex: number
  /** How many random inputs the law was checked on. */
  readonly numRuns: number
  /** How many of them were inside the law's domain (the rest held vacuously). */
  readonly applied: number
  /** The bound the law was held to, for laws that have one. */
  readonly bound?: L.LossyBound | L.BoxBound
  /** The largest error measured, for laws that have a bound. */
  readonly maxError?: number
}

/**
 * What {@link check} returns when every law holds: the subject, its views, and each law run.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws } from 'tta-lens'
 * const report = laws.check(aliases.flip())
 * assert.ok(E.isRight(report) && report.right.subject === 'HorizontalFlip × VerticalFlip' && report.right.views === 4)
 * @category model
 */
export interface LawReport {
  /** What was checked, e.g. `HorizontalFlip × Rotate90`. */
  readonly subject: string
  readonly views: number
  readonly laws: readonly LawRun[]
  /** The smallest run count over all laws (0 when no law ran). */
  readonly minRuns: number
}

/**
 * The first law that failed, with fast-check's counterexample.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { custom, laws } from 'tta-lens'
 * const noop = custom({
 *   name: 'noop',
 *   forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
 *   backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
 * })
 * const verdict = laws.check(noop)
 * assert.ok(E.isLeft(verdict) && verdict.left.law === 'bounds' && verdict.left.view === 'noop(true)')
 * // verdict.left.message: law 'bounds' fails for view 'noop(true)': undo stage 0 (custom 'noop') reads (1, 0) outside …
 * @category model
 */
export interface LawViolation {
  readonly law: L.LawName
  readonly view: string
  readonly viewIndex: number
  /** Why the law fails on the counterexample, in words. */
  readonly reason: string
  /** The (shrunk) input on which the law fails. */
  readonly counterexample: unknown
  /** Replays the failure with `check(subject, { seed })` (and fast-check's `path`). */
  readonly seed: number
  readonly path: string
  /** Everything above in one message. */
  readonly message: string
}

// -------------------------------------------------------------------------------------------------
// running one law
// -------------------------------------------------------------------------------------------------

/**
 * The default allowance of the lossy law: `1e-5 + 2 · (sy·ry + sx·rx)` (see {@link L.LossyBound}).
 * Measured (docs/laws.md): bilinear, bicubic and area views reach about 0.5 of the step term on
 * smooth images (about 1.0 for align-corners resizes to a single row), nearest-neighbour views
 * about 1.5 (a nearest round trip moves a pixel by less than r + 1 ≤ 2r input pixels per axis),
 * while a forgotten flip or a misplaced undo moves values by many pixels' steps and fails.
 * @example
 * import { laws } from 'tta-lens'
 * assert.strictEqual(laws.defaultLossyBound.perStep, 2)
 * @category constants
 */
export const defaultLossyBound: L.LossyBound = { absolute: 1e-5, perStep: 2 }

/**
 * The default allowance of the box/pixel law for views that resample: each side of the box may be
 * off by `2 + 1 × (one view pixel in input pixels)` input pixels. Interpolation spreads a rectangle
 * over the view pixels its kernel reaches (bicubic: two input pixels either side when enlarging) and
 * nearest sampling may skip an edge row, so the box around the lit pixels is that much too large or
 * small (measured in docs/laws.md: at most 2.5 input pixels at ×0.5, 1.5 at ×2, 5 at ×0.3, where a
 * view pixel is 3.3–4 input pixels); a forgotten flip or a wrong offset moves a side by many pixels.
 * @example
 * import { laws } from 'tta-lens'
 * assert.deepStrictEqual(laws.defaultBoxBound, { absolute: 2, perViewPixel: 1 })
 * @category constants
 */
export const defaultBoxBound: L.BoxBound = { absolute: 2, perViewPixel: 1 }

interface Settings {
  readonly numRuns: number
  readonly seed: number | undefined
}

const truncate = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max)}…`)

const runLaw = <T>(
  law: L.LawName,
  view: string,
  viewIndex: number,
  arbitrary: fc.Arbitrary<T>,
  predicate: (t: T) => L.LawResult,
  settings: Settings,
  bound?: L.LossyBound | L.BoxBound,
): E.Either<LawViolation, LawRun> => {
  let applied = 0
  let maxError: number | undefined
  const details = fc.check(fc.property(arbitrary, (t) => {
    const r = predicate(t)
    if (r.holds) {
      if (r.applied) applied++
      if (r.error !== undefined) maxError = Math.max(maxError ?? 0, r.error)
    }
    return r.holds
  }), settings.seed === undefined ? { numRuns: settings.numRuns } : { numRuns: settings.numRuns, seed: settings.seed })
  if (!details.failed) {
    return E.right({
      law, view, viewIndex, numRuns: details.numRuns, applied,
      ...(bound === undefined ? {} : { bound }),
      ...(maxError === undefined ? {} : { maxError }),
    })
  }
  const [counterexample] = details.counterexample ?? []
  const replay = (t: T): string | undefined => {
    try {
      const r = predicate(t)
      return r.holds ? undefined : r.reason
    } catch (e) {
      return `the law threw: ${e instanceof Error ? e.message : String(e)}`
    }
  }
  const fromFastCheck = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance ?? 'no reason given')
  const reason = (details.counterexample === null ? undefined : replay(details.counterexample[0])) ?? `fast-check reports: ${fromFastCheck}`
  const path = details.counterexamplePath ?? ''
  return E.left({
    law, view, viewIndex, reason, counterexample, seed: details.seed, path,
    message: `law '${law}' fails for view '${view}': ${reason}\n  counterexample: ${truncate(fc.stringify(counterexample), 600)}\n  replay: seed ${details.seed}, path "${path}"`,
  })
}

type Planned = (settings: Settings) => E.Either<LawViolation, LawRun>

const runAll = (subject: string, viewCount: number, planned: readonly Planned[], settings: Settings): E.Either<LawViolation, LawReport> => {
  const runs: LawRun[] = []
  for (const plan of planned) {
    const r = plan(settings)
    if (E.isLeft(r)) return r
    runs.push(r.right)
  }
  return E.right({ subject, views: viewCount, laws: runs, minRuns: runs.reduce((m, r) => Math.min(m, r.numRuns), runs.length === 0 ? 0 : Infinity) })
}

const settingsOf = (options: CheckOptions): Settings => ({ numRuns: options.numRuns ?? 200, seed: options.seed })

// -------------------------------------------------------------------------------------------------
// transforms
// -------------------------------------------------------------------------------------------------

/** The targets every factor of the product can undo (per factor, not over the union). */
const commonTargets = (p: Product<readonly AnyFactor[]>): readonly Target[] => {
  const all: readonly Target[] = ['mask', 'label', 'keypoints', 'boxes']
  return p.factors.reduce<readonly Target[]>((acc, f) => acc.filter((t) => f.undoes.includes(t)), all)
}

/** The unsimplified chain of each view, in the same (reference) order as `views`. */
const rawChains = (p: Product<readonly AnyFactor[]>): readonly (readonly Step[])[] =>
  p.factors.reduce<readonly (readonly Step[])[]>((acc, f) => acc.flatMap((chain) => f.options.map((o) => [...chain, ...o.steps])), [[]])

const lawsOfView = (
  spec: ViewSpec,
  raw: readonly Step[],
  view: { readonly deaugmentLabel: Parameters<typeof L.labelUntouched>[0]['deaugmentLabel'] },
  targets: readonly Target[],
  options: CheckOptions,
): readonly Planned[] => {
  const images = A.image(options.images)
  const name = spec.name
  const at = spec.index
  const mask = targets.includes('mask')
  const planned: Planned[] = [
    (s) => runLaw('shape', name, at, fc.tuple(images, fc.integer({ min: 1, max: 3 })), ([x, k]) => L.viewShape(spec, x, k, mask), s),
    (s) => runLaw('bounds', name, at, A.imageDims(options.images), ([, , h, w]) => L.bounds(spec, h, w), s),
  ]
  if (mask) {
    switch (spec.kind) {
      case 'iso':
        planned.push((s) => runLaw('iso', name, at, A.imageAndViewFrame(spec, options.images), ({ x, y }) => L.iso(spec, x, y), s))
        break
      case 'retraction':
        planned.push((s) => runLaw('retraction', name, at, images, (x) => L.retraction(spec, x), s))
        break
      case 'lossy': {
        const bound = options.lossyBound ?? defaultLossyBound
        planned.push((s) => runLaw('lossy', name, at, A.smoothImage(options.smooth), (x) => L.lossy(spec, x, bound), s, bound))
        break
      }
      case 'invariant':
        planned.push((s) => runLaw('invariant', name, at, A.imageAndViewFrame(spec, options.images), ({ x, y }) => L.invariant(spec, x, y), s))
        break
    }
  }
  if (targets.includes('keypoints')) {
    const tolerance = options.pointTolerance ?? 1e-6
    planned.push((s) => runLaw('keypoints', name, at, fc.tuple(A.keypoints(), A.imageDims(options.images)), ([k, [, , h, w]]) => L.keypointRoundTrip(spec, k, tolerance, [h, w]), s))
    const permutes = spec.kind === 'iso' && L.geometry(spec).steps.every((st) => st.op === 'd4' || st.op === 'custom')
    if (permutes) {
      planned.push((s) => runLaw('keypoint-pixel', name, at, A.pixel(options.images), (px) => L.keypointPixel(spec, px, Math.max(tolerance, 1e-9)), s))
    }
  }
  if (targets.includes('boxes')) {
    const tolerance = options.boxTolerance ?? 1e-9
    const bound = options.boxBound ?? defaultBoxBound
    planned.push((s) => runLaw('box-round-trip', name, at, A.frameAndBox(options.images), (b) => L.boxRoundTrip(spec, b.box, [b.height, b.width], tolerance), s))
    planned.push((s) => runLaw('box-pixel', name, at, A.frameAndRect(options.images), (r) => L.boxPixel(spec, r, bound), s, bound))
  }
  planned.push((s) => runLaw('label', name, at, A.labels(), (label) => L.labelUntouched(view, label), s))
  if (!raw.some((st) => st.op === 'pointwise')) {
    planned.push((s) => runLaw('simplify', name, at, images, (x) => L.simplified(spec.steps, raw, x), s))
  }
  return planned
}

const asProduct = (subject: AnyFactor | Product<readonly AnyFactor[]>): Product<readonly AnyFactor[]> =>
  subject._tag === 'Product' ? subject : product(subject)

const describe = (p: Product<readonly AnyFactor[]>): string => (p.factors.length === 0 ? 'identity' : p.factors.map((f) => f.name).join(' × '))

/**
 * Checks every law that applies to each view of a factor, a product, or a custom transform (its
 * `Either` may be passed as is). Each law runs `numRuns` times (default 200) per view on random
 * non-square images, smooth images for lossy views, keypoints and labels.
 *
 * Returns `Right(report)` listing each law, view and run count, or `Left(violation)` naming the
 * first law that fails, the view, the shrunk counterexample and a reason in words.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, custom, laws } from 'tta-lens'
 * const report = laws.check(aliases.d4())
 * assert.ok(E.isRight(report) && report.right.minRuns >= 200)
 *
 * // A "transpose" whose way back is wrong (it anti-transposes) is caught by the iso law:
 * const broken = custom({
 *   name: 'transpose',
 *   forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
 *   backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j, h, w) => [h - 1 - j, w - 1 - i] },
 * })
 * const verdict = laws.check(broken)
 * assert.ok(E.isLeft(verdict) && verdict.left.law === 'iso')
 * @category checks
 */
export const check = (subject: Checkable, options: CheckOptions = {}): E.Either<LawViolation, LawReport> => {
  const refuse = (reason: string): E.Either<LawViolation, LawReport> => E.left({
    law: 'construction', view: '(none)', viewIndex: -1, reason, counterexample: undefined, seed: 0, path: '',
    message: `the transform could not be built: ${reason}`,
  })
  const given: unknown = subject
  if (typeof given !== 'object' || given === null || !('_tag' in given)) return refuse('laws.check takes a factor, a product, or the Either a constructor returned')
  if (subject._tag === 'Left') return refuse(typeof subject.left?.message === 'string' ? subject.left.message : 'a Left without a message')
  const runs: unknown = options?.numRuns
  if (runs !== undefined && !(typeof runs === 'number' && Number.isInteger(runs) && runs >= 1 && runs <= 1_000_000)) {
    return refuse(`numRuns must be an integer from 1 to 1,000,000, got ${typeof runs === 'number' ? String(runs) : typeof runs}`)
  }
  const inner: unknown = subject._tag === 'Right' ? subject.right : subject
  const checked = checkProduct(typeof inner === 'object' && inner !== null && '_tag' in inner && inner._tag === 'Factor' ? { _tag: 'Product', factors: [inner] } : inner)
  if (E.isLeft(checked)) return refuse(checked.left.message)
  const p = asProduct(checked.right)
  const specs = views(p)
  const runnable = runnableViews(p)
  const raw = rawChains(p)
  const targets = commonTargets(p)
  const planned = specs.flatMap((spec, k) => {
    const view = runnable[k]
    return view === undefined ? [] : lawsOfView(spec, raw[k] ?? spec.steps, view, targets, options)
  })
  return runAll(describe(p), specs.length, planned, settingsOf(options))
}

// -------------------------------------------------------------------------------------------------
// the group and the merges
// -------------------------------------------------------------------------------------------------

/**
 * Checks the group laws of D4 (identity, associativity, inverses, closure and the Cayley table) and
 * that composition agrees with composing index maps (`thenMap` of `d4IndexMap`s) and point maps.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws } from 'tta-lens'
 * const report = laws.checkD4()
 * assert.ok(E.isRight(report) && report.right.laws.length === 6)
 * @category checks
 */
export const checkD4 = (options: Pick<CheckOptions, 'numRuns' | 'seed' | 'images'> = {}): E.Either<LawViolation, LawReport> => {
  const g = A.d4Element()
  const planned: readonly Planned[] = [
    (s) => runLaw('d4-identity', 'D4', 0, g, L.groupIdentity, s),
    (s) => runLaw('d4-associativity', 'D4', 0, fc.tuple(g, g, g), ([a, b, c]) => L.groupAssociativity(a, b, c), s),
    (s) => runLaw('d4-inverse', 'D4', 0, g, L.groupInverse, s),
    (s) => runLaw('d4-closure', 'D4', 0, fc.tuple(g, g), ([a, b]) => L.groupClosure(a, b), s),
    (s) => runLaw('d4-index-map', 'D4', 0, fc.tuple(g, g, A.imageDims(options.images)), ([a, b, [, , h, w]]) => L.afterMatchesIndexMaps(a, b, h, w), s),
    (s) => runLaw('d4-point-map', 'D4', 0, fc.tuple(g, g, A.point()), ([a, b, p]) => L.afterMatchesPointMaps(a, b, p), s),
  ]
  return runAll('D4', 8, planned, settingsOf(options))
}

/**
 * Checks the merge laws for each mode (default: all of them): merging n ≤ 8 copies of x gives x
 * (mean, gmean, max, min), n·x (sum), √x (tsharpen) or one-hot(argmax x) (vote); and merging up
 * to 6 different views does not depend on their order.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws } from 'tta-lens'
 * const report = laws.checkMerge({ modes: ['mean', 'vote'] })
 * assert.ok(E.isRight(report) && report.right.laws.length === 4)
 * @category checks
 */
export const checkMerge = (options: Pick<CheckOptions, 'numRuns' | 'seed'> & { readonly modes?: readonly MergeMode[] } = {}): E.Either<LawViolation, LawReport> => {
  const modes = options.modes ?? mergeModes
  const planned = modes.flatMap((mode): readonly Planned[] => {
    const nonNegative = mode === 'gmean' || mode === 'tsharpen'
    const copies = fc.tuple(A.prediction({ nonNegative }), fc.integer({ min: 1, max: 8 }))
    const shuffled = fc.integer({ min: 1, max: 6 })
      .chain((n) => A.predictions(n, { nonNegative }))
      .chain((xs) => fc.tuple(fc.constant(xs), fc.shuffledSubarray(xs.map((_, i) => i), { minLength: xs.length, maxLength: xs.length })))
    return [
      (s) => runLaw('merge-copies', mode, 0, copies, ([x, n]) => L.mergeOfCopies(mode, x, n), s),
      (s) => runLaw('merge-order', mode, 0, shuffled, ([xs, order]) => L.mergeOrder(mode, xs, order), s),
    ]
  })
  return runAll(`merge (${modes.join(', ')})`, modes.length, planned, settingsOf(options))
}

// -------------------------------------------------------------------------------------------------
// box fusion
// -------------------------------------------------------------------------------------------------

/**
 * Checks the box-fusion laws (see `fusionOrder`, `wbfOfCopies`, `nmsSeparation`): for each method
 * (default: all), the answer does not depend on the order of the views (random scenes of up to 5
 * views, random options and weights); for each confidence rule, WBF of 1–5 identical views returns
 * the view's boxes with their own scores; NMS never keeps two boxes of a class above its IoU
 * threshold. `LawRun.view` names the method (and the rule).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws } from 'tta-lens'
 * const report = laws.checkFusion({ methods: ['nms'], numRuns: 50 })
 * assert.ok(E.isRight(report) && report.right.laws.map((l) => l.law).join() === 'fusion-order,nms-separation')
 * @category checks
 */
export const checkFusion = (options: Pick<CheckOptions, 'numRuns' | 'seed'> & { readonly methods?: readonly FusionMethod[] } = {}): E.Either<LawViolation, LawReport> => {
  const methods = options.methods ?? fusionMethods
  const shuffled = (method: FusionMethod) => A.fusionCase({ method }).chain((c) => A.permutation(c.views.length).map((order) => ({ ...c, order })))
  const planned: Planned[] = methods.map((method): Planned => (s) =>
    runLaw('fusion-order', method, 0, shuffled(method), (c) => F.fusionOrder(c.views, c.options, c.order), s))
  if (methods.includes('wbf')) {
    for (const confidence of confidenceRules) {
      const copies = fc.tuple(A.detections({ maxBoxes: 6, maxSide: 1 / 4, margin: 1 / 8 }), fc.integer({ min: 1, max: 5 }))
        .chain(([view, n]) => A.fusionOptions(n, 'wbf').map((o) => ({ view, n, options: { ...o, method: 'wbf' as const, confidence } })))
      planned.push((s) => runLaw('wbf-copies', `wbf/${confidence}`, 0, copies, (c) => F.wbfOfCopies(c.view, c.n, c.options), s))
    }
  }
  if (methods.includes('nms')) {
    const scene = A.fusionCase({ method: 'nms' }).map((c) => ({ views: c.views, options: { ...c.options, method: 'nms' as const } }))
    planned.push((s) => runLaw('nms-separation', 'nms', 0, scene, (c) => F.nmsSeparation(c.views, c.options.method === 'nms' ? c.options : { method: 'nms' }), s))
  }
  return runAll(`fusion (${methods.join(', ')})`, methods.length, planned, settingsOf(options))
}
