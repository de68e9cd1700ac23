/**
 * The parity runner: maps each ttach construct of the golden file onto ours, runs it, and says how
 * our answer relates to ttach's — exact, within the float32 tolerance, or a documented deviation
 * whose own behaviour is checked on the spot. Anything else fails the test.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { pipe } from 'fp-ts/lib/function.js'
import { expect } from 'vitest'
import {
  aliases, merge, orThrow, parseMergeMode, product, runnableViews, tensor, transforms as T, wrap, zeros,
  type AnyFactor, type MergeMode, type ParamError, type Product, type Shape, type Tensor, type TtaError, type View, type ViewSpec,
} from '../../src/index.js'
import { viewSize } from '../../src/backend/reference/views.js'
import { resamplePlanes } from '../../src/backend/reference/resample.js'
import { interpolations, type Interpolation } from '../../src/transform/step.js'
import {
  inputOf, outcomeOf, TransformSpecCodec,
  type Golden, type GoldenTensor, type MergerCase, type Op, type Outcome, type Param, type TransformCase, type TransformSpec, type WrapperCase,
} from './golden.js'
import { affine, meanOf, parseModel, type BaseModels, type Input } from './models.js'

// ---------------------------------------------------------------------------------------------
// Verdicts and the tally
// ---------------------------------------------------------------------------------------------

/** Why a case is a deviation: each kind has its own check in {@link runOp} and friends, and a paragraph in docs/ttach.md. */
export type Deviation =
  /** ttach builds the transform (and then misbehaves or raises); ours is a `ParamError` at construction. */
  | 'refused-at-construction'
  /** ttach raises, ours answers correctly (Resize masks without `original_size`, Rotate90 ±450° keypoints). */
  | 'ttach-raises-we-answer'
  /** ttach puts a mask back at a size other than the input's (Scale 0.75 of 6×10 → 5×9); ours restores the input size. */
  | 'ttach-wrong-size'
  /** ttach returns NaN or a flipped sign (gmean / tsharpen of negative values); ours is a `MergeError`. */
  | 'merge-refused'
  /** Both refuse: ttach raises, ours is a typed error (and, for typed callers, a compile error). */
  | 'both-refuse'
  /** KeypointsTTAWrapper(scaled=False) on a non-square image with quarter turns: ttach normalises by the input's size, we by the view's. */
  | 'ttach-wrong-keypoints'

export type Verdict =
  /** Every value is `Math.fround` of ttach's (the errors are float32 rounding of the float64 golden). */
  | { readonly kind: 'exact'; readonly maxAbs: number; readonly maxRel: number }
  /** Within {@link tolerance}. */
  | { readonly kind: 'close'; readonly maxAbs: number; readonly maxRel: number }
  | { readonly kind: 'deviation'; readonly deviation: Deviation; readonly note: string }

interface GroupTally {
  cases: number
  exact: number
  close: number
  maxAbs: number
  maxRel: number
  deviations: Map<Deviation, number>
}

/** Counts verdicts per group, for the summary lines the suite prints. */
export const tally = () => {
  const groups = new Map<string, GroupTally>()
  const group = (name: string): GroupTally => {
    const found = groups.get(name)
    if (found !== undefined) return found
    const fresh: GroupTally = { cases: 0, exact: 0, close: 0, maxAbs: 0, maxRel: 0, deviations: new Map() }
    groups.set(name, fresh)
    return fresh
  }
  const record = (name: string, verdict: Verdict): void => {
    const g = group(name)
    g.cases++
    if (verdict.kind === 'deviation') {
      g.deviations.set(verdict.deviation, (g.deviations.get(verdict.deviation) ?? 0) + 1)
      return
    }
    if (verdict.kind === 'exact') g.exact++
    else g.close++
    g.maxAbs = Math.max(g.maxAbs, verdict.maxAbs)
    g.maxRel = Math.max(g.maxRel, verdict.maxRel)
  }
  const deviationsOf = (g: GroupTally): number => [...g.deviations.values()].reduce((a, n) => a + n, 0)
  const line = (name: string, g: GroupTally): string => {
    const devs = [...g.deviations.entries()].map(([d, n]) => `${d} ${n}`).join(', ')
    return `parity[${name}]: ${g.cases} cases checked, ${deviationsOf(g)} deviations — exact ${g.exact}, within tolerance ${g.close}` +
      ` (max abs err ${g.maxAbs.toExponential(2)}, max rel err ${g.maxRel.toExponential(2)})${devs === '' ? '' : `; ${devs}`}`
  }
  const summary = (caseGroups: readonly string[]): readonly string[] => {
    const lines = [...groups.entries()].map(([name, g]) => line(name, g))
    const counted = [...groups.entries()].filter(([name]) => caseGroups.includes(name)).map(([, g]) => g)
    const sum = (f: (g: GroupTally) => number): number => counted.reduce((a, g) => a + f(g), 0)
    const byKind = new Map<Deviation, number>()
    for (const g of counted) for (const [d, n] of g.deviations) byKind.set(d, (byKind.get(d) ?? 0) + n)
    return [
      ...lines,
      `parity: ${sum((g) => g.cases)} cases checked, ${sum(deviationsOf)} deviations` +
        ` (exact ${sum((g) => g.exact)}, within tolerance ${sum((g) => g.close)}; ${[...byKind.entries()].map(([d, n]) => `${d} ${n}`).join(', ')})`,
    ]
  }
  return { record, summary, groups }
}
export type Tally = ReturnType<typeof tally>

// ---------------------------------------------------------------------------------------------
// Comparing tensors
// ---------------------------------------------------------------------------------------------

/**
 * Float tolerance for interpolating resamples, merges, models and wrappers: we compute in float32
 * (inputs, views, model outputs, results are float32), the golden in float64. `abs` covers values
 * of order 1; `rel` (4 float32 ulps) covers sums of many views, whose float32 rounding alone is
 * larger than `abs` (a 48-view `sum` is ≈ 30).
 */
export const tolerance: { readonly abs: number; readonly rel: number } = { abs: 2e-6, rel: 4 * 2 ** -24 }

interface Flat {
  readonly shape: readonly number[]
  readonly data: ArrayLike<number>
}

/**
 * Compares our float32 tensor with ttach's float64 one. `exact` demands `ours === fround(golden)`
 * for every value (NaN matching NaN); otherwise each value must be within {@link tolerance}.
 */
export const compare = (what: string, ours: Flat, expected: GoldenTensor, mode: 'exact' | 'tolerance'): Verdict => {
  expect([...ours.shape], `${what}: shape`).toEqual([...expected.shape])
  expect(ours.data.length, `${what}: length`).toBe(expected.data.length)
  let exact = true
  let maxAbs = 0
  let maxRel = 0
  for (let i = 0; i < expected.data.length; i++) {
    const e = expected.data[i] ?? Number.NaN
    const a = ours.data[i] ?? Number.NaN
    if (Number.isNaN(e) || Number.isNaN(a) || !Number.isFinite(e)) {
      if (!Object.is(Number.isNaN(e), Number.isNaN(a)) || (!Number.isNaN(e) && a !== e)) {
        throw new Error(`${what}: value ${i} is ${a}, ttach has ${e}`)
      }
      continue
    }
    const diff = Math.abs(a - e)
    maxAbs = Math.max(maxAbs, diff)
    if (e !== 0) maxRel = Math.max(maxRel, diff / Math.abs(e))
    if (a !== Math.fround(e)) {
      exact = false
      if (mode === 'exact') throw new Error(`${what}: value ${i} is ${a}, ttach has ${e} (float32 ${Math.fround(e)}); this case must match exactly`)
      if (diff > tolerance.abs + tolerance.rel * Math.abs(e)) {
        throw new Error(`${what}: value ${i} is ${a}, ttach has ${e}: off by ${diff.toExponential(3)}, over the tolerance ${tolerance.abs} + ${tolerance.rel.toExponential(2)}·|x|`)
      }
    }
  }
  return { kind: exact ? 'exact' : 'close', maxAbs, maxRel }
}

/** Whether {@link compare} within the tolerance would pass, without failing the test. */
export const agrees = (ours: Flat, expected: GoldenTensor): boolean => {
  try {
    compare('', ours, expected, 'tolerance')
    return true
  } catch {
    return false
  }
}

/** A golden tensor as one of ours, of any rank. */
export const tensorOf = (g: GoldenTensor): Tensor<readonly number[]> => orThrow(tensor([...g.shape], g.data))

/** A golden NCHW tensor as one of ours, rank 4 in the type. */
export const image4 = (g: GoldenTensor): Tensor<readonly [number, number, number, number]> => {
  const [n, c, h, w] = g.shape
  if (g.shape.length !== 4 || n === undefined || c === undefined || h === undefined || w === undefined) {
    throw new Error(`expected an NCHW tensor, got shape [${g.shape.join(',')}]`)
  }
  return orThrow(tensor([n, c, h, w], g.data))
}

const sameParam = (ours: unknown, theirs: Param): boolean =>
  Array.isArray(theirs)
    ? Array.isArray(ours) && ours.length === theirs.length && theirs.every((d, i) => ours[i] === d)
    : ours === theirs

/** Our view params against ttach's, position by position. */
export const sameParams = (ours: readonly unknown[], theirs: readonly Param[]): boolean =>
  ours.length === theirs.length && theirs.every((p, i) => sameParam(ours[i], p))

const showParam = (p: unknown): string => (Array.isArray(p) ? `[${p.map(String).join(',')}]` : String(p))
export const showParams = (ps: readonly unknown[]): string => ps.map(showParam).join(', ')

// ---------------------------------------------------------------------------------------------
// ttach constructs → ours
// ---------------------------------------------------------------------------------------------

const isInterpolation = (s: string): s is Interpolation => interpolations.some((m) => m === s)

/** What an untyped (JavaScript) caller gets for an interpolation name outside our type, e.g. ttach's README's "linear". */
const scaleUntyped = (scales: readonly number[], interpolation: string): E.Either<ParamError, AnyFactor> =>
  // @ts-expect-error -- not an `Interpolation`: a typed caller cannot write this; at run time it is a ParamError
  T.scale(scales, { interpolation })
const resizeUntyped = (sizes: readonly (readonly [number, number])[], interpolation: string): E.Either<ParamError, AnyFactor> =>
  // @ts-expect-error -- not an `Interpolation`, as above
  T.resize(sizes, { interpolation })

const resampleOptions = (ctor: { readonly interpolation?: string; readonly align_corners?: boolean }, mode: Interpolation): { interpolation: Interpolation; alignCorners?: boolean } =>
  ctor.align_corners === undefined ? { interpolation: mode } : { interpolation: mode, alignCorners: ctor.align_corners }

/**
 * Our factor for a ttach transform class and its constructor arguments:
 * HorizontalFlip → `hflip()`, VerticalFlip → `vflip()`, Rotate90(angles) → `rotate90(angles)`,
 * Scale(scales, interpolation, align_corners) → `scale(scales, { interpolation, alignCorners })`,
 * Resize(sizes, original_size, …) → `resize(sizes, { originalSize, … })`, Add → `add`,
 * Multiply → `multiply`, FiveCrops(h, w) → `fiveCrops(h, w)`.
 */
export const buildFactor = (spec: TransformSpec): E.Either<ParamError, AnyFactor> => {
  switch (spec.transform) {
    case 'HorizontalFlip': return E.right(T.hflip())
    case 'VerticalFlip': return E.right(T.vflip())
    case 'Rotate90': return T.rotate90(spec.ctor.angles)
    case 'Scale': {
      const mode = spec.ctor.interpolation ?? 'nearest'
      return isInterpolation(mode) ? T.scale(spec.ctor.scales, resampleOptions(spec.ctor, mode)) : scaleUntyped(spec.ctor.scales, mode)
    }
    case 'Resize': {
      const mode = spec.ctor.interpolation ?? 'nearest'
      if (!isInterpolation(mode)) return resizeUntyped(spec.ctor.sizes, mode)
      const options = resampleOptions(spec.ctor, mode)
      const original = spec.ctor.original_size
      return original === undefined ? T.resize(spec.ctor.sizes, options) : T.resize(spec.ctor.sizes, { ...options, originalSize: original })
    }
    case 'Add': return T.add(spec.ctor.values)
    case 'Multiply': return T.multiply(spec.ctor.factors)
    case 'FiveCrops': return T.fiveCrops(spec.ctor.crop_height, spec.ctor.crop_width)
  }
}

/** Why we refuse to build a transform that ttach builds, or undefined when we should build it. */
export const refusalReason = (spec: TransformSpec): string | undefined => {
  switch (spec.transform) {
    case 'Rotate90': {
      const bad = spec.ctor.angles.find((a) => a % 90 !== 0)
      return bad === undefined ? undefined : `${bad}° is not a right angle (ttach leaves the image alone but turns masks and keypoints)`
    }
    case 'Scale':
    case 'Resize': {
      const mode = spec.ctor.interpolation ?? 'nearest'
      if (!isInterpolation(mode)) return `'${mode}' is not a 2-D interpolation (ttach fails on 4-D input)`
      if (spec.ctor.align_corners === true && mode !== 'bilinear' && mode !== 'bicubic') return `align_corners with '${mode}' (PyTorch refuses it)`
      return undefined
    }
    default: return undefined
  }
}

/**
 * Parses a compose expression of the golden file into our product: `aliases.*_transform(…)` onto
 * our `aliases.*`, and `Compose([...])` onto `product(...)` of the factors that {@link buildFactor}
 * makes (each item is decoded with the same io-ts codec as the file's constructor arguments).
 */
export const parseCompose = (expr: string): E.Either<ParamError, Product<readonly AnyFactor[]>> => {
  const simple = /^aliases\.(hflip|vflip|flip|d4)_transform\(\)$/.exec(expr)
  if (simple !== null) {
    switch (simple[1]) {
      case 'hflip': return E.right(aliases.hflip())
      case 'vflip': return E.right(aliases.vflip())
      case 'flip': return E.right(aliases.flip())
      case 'd4': return E.right(aliases.d4())
    }
  }
  const multiscale = /^aliases\.multiscale_transform\((\[[^\]]*\])(?:, interpolation='([\w-]+)')?\)$/.exec(expr)
  if (multiscale !== null) {
    const scales = numbers(multiscale[1] ?? '')
    const mode = multiscale[2] ?? 'nearest'
    if (!isInterpolation(mode)) throw new Error(`compose '${expr}': unknown interpolation '${mode}'`)
    return aliases.multiscale(scales, mode)
  }
  const crops = /^aliases\.(five|ten)_crop_transform\((\d+), (\d+)\)$/.exec(expr)
  if (crops !== null) {
    const h = Number(crops[2])
    const w = Number(crops[3])
    return crops[1] === 'five' ? aliases.fiveCrop(h, w) : aliases.tenCrop(h, w)
  }
  const compose = /^Compose\(\[(.*)\]\)$/.exec(expr)
  if (compose !== null) {
    const items = [...(compose[1] ?? '').matchAll(/(\w+)\(([^()]*)\)/g)]
    const rebuilt = items.map((m) => m[0]).join(', ')
    if (rebuilt !== compose[1]) throw new Error(`compose '${expr}': cannot parse the transform list`)
    const specs = items.map((m) => transformSpecOf(m[1] ?? '', m[2] ?? '', expr))
    return pipe(E.sequenceArray(specs.map(buildFactor)), E.map((factors) => product(...factors)))
  }
  throw new Error(`unknown compose expression '${expr}': map it onto our API in spec/parity/run.ts`)
}

const numbers = (text: string): readonly number[] => {
  const parsed: unknown = JSON.parse(text)
  if (!Array.isArray(parsed) || !parsed.every((x): x is number => typeof x === 'number')) throw new Error(`expected a list of numbers, got ${text}`)
  return parsed
}

/** `Rotate90(angles=[90])` → the decoded {transform, ctor} of the golden file's own codec. */
const transformSpecOf = (name: string, args: string, expr: string): TransformSpec => {
  const ctor: Record<string, unknown> = {}
  for (const kw of args.split(/,\s*(?=\w+=)/).filter((s) => s.trim() !== '')) {
    const eq = kw.indexOf('=')
    const value: unknown = JSON.parse(kw.slice(eq + 1).trim().replace(/'/g, '"').replace(/\bTrue\b/g, 'true').replace(/\bFalse\b/g, 'false'))
    ctor[kw.slice(0, eq).trim()] = value
  }
  const decoded = TransformSpecCodec.decode({ transform: name, ctor })
  if (E.isLeft(decoded)) throw new Error(`compose '${expr}': cannot map ${name}(${args}) onto our transforms`)
  return decoded.right
}

// ---------------------------------------------------------------------------------------------
// Per-view operations (ttach's augment_image / deaugment_* on one Transformer)
// ---------------------------------------------------------------------------------------------

type Size = readonly [number, number]

const interpolating = (spec: ViewSpec): boolean =>
  spec.steps.some((s) => s.op === 'resample' && (s.mode === 'bilinear' || s.mode === 'bicubic' || s.mode === 'area'))

const hasCrop = (spec: ViewSpec): boolean => spec.steps.some((s) => s.op === 'crop')

/**
 * The image size a mask of `mask` size was predicted from, for our `deaugmentMask(mask, original)`
 * (ttach's `deaugment_mask` takes no original; we restore the input's exact size). The rule: the
 * original is the one base size whose view under this transform has the mask's size; base sizes
 * are the H×W of the file's NCHW inputs (8×8 for `img_sq` and its views, 6×10 for the rectangular
 * masks, …). A Resize maps every size onto the same one, so there the original is its
 * `original_size`, and without one (where ttach raises) the default image `img_sq`. When two base
 * sizes fit, ttach's output size decides; when none or still two fit, the case fails.
 */
export const resolveOriginal = (golden: Golden, spec: ViewSpec, mask: Size, hint: Size | undefined, ttach: readonly number[] | undefined): Size => {
  const fits = (s: Size): boolean => pipe(viewSize(spec, s[0], s[1]), E.match(() => false, ([h, w]) => h === mask[0] && w === mask[1]))
  if (hint !== undefined && fits(hint)) return hint
  const bases: Size[] = []
  for (const t of Object.values(golden.inputs)) {
    const [, , h, w] = t.shape
    if (t.shape.length === 4 && h !== undefined && w !== undefined && !bases.some((b) => b[0] === h && b[1] === w)) bases.push([h, w])
  }
  const matches = bases.filter(fits)
  const [only] = matches
  if (matches.length === 1 && only !== undefined) return only
  const [, , th, tw] = ttach ?? []
  const byTtach = matches.find((m) => m[0] === th && m[1] === tw)
  if (byTtach !== undefined) return byTtach
  const resize = spec.steps.some((s) => s.op === 'crop' || (s.op === 'resample' && s.target.by === 'size'))
  const [, , dh, dw] = inputOf(golden, 'img_sq').shape
  if (resize && dh !== undefined && dw !== undefined) return [dh, dw]
  throw new Error(`cannot tell which image view '${spec.name}' made the ${mask.join('x')} mask from (${matches.length} candidates)`)
}

/** Our `deaugmentMask` needs only the original's size (and batch): a zero tensor of that size. */
const originalImage = (batch: number, size: Size): Tensor<readonly [number, 1, number, number]> => orThrow(zeros([batch, 1, size[0], size[1]]))

/** What a plain resample of the mask to `size` gives, with the view's own interpolation. */
const resampledTo = (spec: ViewSpec, mask: GoldenTensor, size: Size): Flat => {
  const step = spec.steps.find((s) => s.op === 'resample')
  const [n = 1, c = 1, h = 1, w = 1] = mask.shape
  if (step === undefined || step.op !== 'resample') throw new Error(`view '${spec.name}' has no resample step`)
  return { shape: [n, c, size[0], size[1]], data: resamplePlanes(Float32Array.from(mask.data), n * c, h, w, size[0], size[1], step.mode, step.alignCorners) }
}

export interface OpCase {
  readonly what: string
  readonly op: Op
  readonly input: string
  readonly outcome: Outcome
  /** A Resize's `original_size`. */
  readonly hint?: Size
  /**
   * ttach's correct answer to the same question asked another way, for cases where ttach raises
   * and we answer (the same Resize with `original_size`; the same turn by an angle in [0, 360)).
   */
  readonly sibling?: GoldenTensor
}

const unwrap = <A>(what: string, result: E.Either<TtaError, A>): A => {
  if (E.isLeft(result)) throw new Error(`${what}: ours failed with ${result.left._tag}: ${result.left.message}`)
  return result.right
}

/** Runs one of ttach's per-transformer calls on our view and judges the answer. */
export const runOp = (golden: Golden, view: View<readonly AnyFactor[]>, c: OpCase): Verdict => {
  const spec = view.spec
  const outcome = 'out' in c.outcome ? { out: c.outcome.out } : { error: c.outcome.error }
  const exactness = interpolating(spec) ? 'tolerance' : 'exact'
  switch (c.op) {
    case 'augment_image': {
      const ours = view.augmentImage(image4(inputOf(golden, c.input)))
      if (outcome.out === undefined) throw new Error(`${c.what}: ttach raised ${outcome.error.type} (${outcome.error.message}) and no deviation covers it`)
      return compare(c.what, unwrap(c.what, ours), outcome.out, exactness)
    }
    case 'deaugment_mask':
    case 'roundtrip_mask': {
      const [name, via] = c.input.split('|')
      if (c.op === 'roundtrip_mask' && via !== 'augment_image') throw new Error(`${c.what}: unknown round trip input '${c.input}'`)
      const given = inputOf(golden, name ?? '')
      const [n = 1, , gh = 1, gw = 1] = given.shape
      // deaugment_mask: the mask is given in the view's frame; roundtrip: it is the augmented input itself.
      const original: Size = c.op === 'roundtrip_mask' ? [gh, gw] : resolveOriginal(golden, spec, [gh, gw], c.hint, outcome.out?.shape)
      const ours = c.op === 'roundtrip_mask'
        ? pipe(view.augmentImage(image4(given)), E.flatMap((aug) => view.deaugmentMask(aug, image4(given))))
        : view.deaugmentMask(image4(given), originalImage(n, original))
      if (outcome.out !== undefined) {
        const [, , th, tw] = outcome.out.shape
        if (th === original[0] && tw === original[1]) return compare(c.what, unwrap(c.what, ours), outcome.out, exactness)
        // ttach's mask came back at another size. That is its Scale bug exactly when the view is a
        // Scale(k) and ttach's size is int(m · (1/k)) of the view-sized mask m: check that, then ours.
        const scaleStep = spec.steps.find((s) => s.op === 'resample' && s.target.by === 'factor')
        const k = scaleStep?.op === 'resample' && scaleStep.target.by === 'factor' ? scaleStep.target.factor : Number.NaN
        const [mh, mw] = c.op === 'roundtrip_mask' ? [Math.trunc(gh * k), Math.trunc(gw * k)] : [gh, gw]
        expect([th, tw], `${c.what}: ttach's size is its Scale formula int(m / k)`).toEqual([Math.trunc(mh * (1 / k)), Math.trunc(mw * (1 / k))])
        const mine = unwrap(c.what, ours)
        expect(mine.shape.slice(2), `${c.what}: ours restores the input size`).toEqual([...original])
        if (c.op === 'deaugment_mask') compare(`${c.what} (a plain resample to ${original.join('x')})`, mine, { shape: mine.shape, data: Array.from(resampledTo(spec, given, original).data) }, 'exact')
        return { kind: 'deviation', deviation: 'ttach-wrong-size', note: `ttach ${th}x${tw}, ours ${original.join('x')}` }
      }
      if (E.isLeft(ours)) {
        expect(hasCrop(spec), `${c.what}: only crops refuse masks`).toBe(true)
        expect(ours.left._tag).toBe('UndoError')
        return { kind: 'deviation', deviation: 'both-refuse', note: `ttach ${outcome.error.type}, ours ${ours.left._tag}` }
      }
      // ttach raised (Resize without original_size); ours restores the input size — as ttach does when told it.
      const [, , oh, ow] = ours.right.shape
      expect([oh, ow], `${c.what}: ours restores the input size`).toEqual([...original])
      if (c.sibling !== undefined) compare(`${c.what} (vs ttach given original_size)`, ours.right, c.sibling, exactness)
      else if (c.op === 'deaugment_mask') compare(`${c.what} (a plain resample)`, ours.right, { shape: ours.right.shape, data: Array.from(resampledTo(spec, given, original).data) }, 'exact')
      else throw new Error(`${c.what}: ttach raised and there is no sibling case to compare with`)
      return { kind: 'deviation', deviation: 'ttach-raises-we-answer', note: `ttach ${outcome.error.type}: ${outcome.error.message}` }
    }
    case 'deaugment_label': {
      const label = tensorOf(inputOf(golden, c.input))
      if (outcome.out === undefined) throw new Error(`${c.what}: ttach raised ${outcome.error.type} and no deviation covers it`)
      return compare(c.what, view.deaugmentLabel(label), outcome.out, 'exact')
    }
    case 'deaugment_keypoints': {
      const ours = view.deaugmentKeypoints(tensorOf(inputOf(golden, c.input)))
      if (outcome.out !== undefined) return compare(c.what, unwrap(c.what, ours), outcome.out, 'exact')
      if (E.isLeft(ours)) {
        expect(hasCrop(spec), `${c.what}: only crops refuse keypoints`).toBe(true)
        expect(ours.left._tag).toBe('UndoError')
        return { kind: 'deviation', deviation: 'both-refuse', note: `ttach ${outcome.error.type}, ours ${ours.left._tag}` }
      }
      if (c.sibling === undefined) throw new Error(`${c.what}: ttach raised ${outcome.error.type} (${outcome.error.message}), ours answered, and there is no sibling case to check it against`)
      compare(`${c.what} (vs ttach's answer for the same turn)`, ours.right, c.sibling, 'exact')
      return { kind: 'deviation', deviation: 'ttach-raises-we-answer', note: `ttach ${outcome.error.type}: ${outcome.error.message}` }
    }
  }
}

const norm360 = (a: number): number => ((a % 360) + 360) % 360

/**
 * ttach's own correct answer to a question it raised on: the same Resize given `original_size`
 * (the input's size), or the same turn by the equivalent angle in [0, 360).
 */
export const siblingOf = (golden: Golden, c: TransformCase): GoldenTensor | undefined => {
  if (!('error' in c)) return undefined
  const same = (o: TransformCase): boolean => o.op === c.op && o.input === c.input && 'out' in o
  const found = golden.transform_cases.find((o) => {
    if (!same(o)) return false
    if (c.transform === 'Resize' && o.transform === 'Resize' && c.ctor.original_size === undefined) {
      const [name] = c.input.split('|')
      const [, , h, w] = inputOf(golden, name ?? '').shape
      const base = c.op === 'roundtrip_mask' ? [h, w] : undefined
      const origin = o.ctor.original_size
      return origin !== undefined && sameParam(o.param, c.param) &&
        (o.ctor.interpolation ?? 'nearest') === (c.ctor.interpolation ?? 'nearest') &&
        (o.ctor.align_corners ?? false) === (c.ctor.align_corners ?? false) &&
        (base === undefined || (origin[0] === base[0] && origin[1] === base[1]))
    }
    if (c.transform === 'Rotate90' && o.transform === 'Rotate90' && typeof c.param === 'number' && typeof o.param === 'number') {
      return o.param >= 0 && o.param < 360 && norm360(o.param) === norm360(c.param) && o.ctor.angles.every((a) => a % 90 === 0)
    }
    return false
  })
  return found !== undefined && 'out' in found ? found.out : undefined
}

/** The view of a single-factor product whose parameter is `param`. */
export const viewFor = (views: readonly View<readonly AnyFactor[]>[], param: Param, what: string): View<readonly AnyFactor[]> => {
  const found = views.filter((v) => v.spec.params.length === 1 && sameParam(v.spec.params[0], param))
  const [only] = found
  if (found.length !== 1 || only === undefined) throw new Error(`${what}: ${found.length} of our views have the param ${showParam(param)}`)
  return only
}

export { runnableViews }

// ---------------------------------------------------------------------------------------------
// Merges
// ---------------------------------------------------------------------------------------------

/** `Merger(type).append(items…).result` → our `merge(mode, tensors)`. */
export const runMerger = (c: MergerCase): Verdict => {
  const what = `merge ${c.merge_mode} of '${c.sequence}'`
  const mode = parseMergeMode(c.merge_mode)
  if (E.isLeft(mode)) {
    if (!('error' in c)) throw new Error(`${what}: ttach merges with '${c.merge_mode}' but we do not know it`)
    expect(mode.left._tag).toBe('MergeError')
    return { kind: 'deviation', deviation: 'both-refuse', note: `ttach ${c.error.type}: ${c.error.message}; ours ${mode.left._tag}` }
  }
  expect(c.items.length, `${what}: n`).toBe(c.n)
  const [first, ...rest] = c.items.map((item) => orThrow(tensor([item.length], item)))
  if (first === undefined) throw new Error(`${what}: no items`)
  const ours = merge(mode.right, [first, ...rest])
  if ('error' in c) throw new Error(`${what}: ttach raised ${c.error.type} and no deviation covers it`)
  if (E.isRight(ours)) return compare(what, ours.right, c.out, 'tolerance')
  // Ours refuses: only gmean / tsharpen, only with a negative value among the items.
  expect(ours.left._tag, `${what}: ${ours.left.message}`).toBe('MergeError')
  expect(['gmean', 'tsharpen'], what).toContain(mode.right)
  expect(c.items.some((item) => item.some((x) => x < 0)), `${what}: a negative value`).toBe(true)
  return { kind: 'deviation', deviation: 'merge-refused', note: `ttach [${c.out.data.join(', ')}], ours MergeError` }
}

// ---------------------------------------------------------------------------------------------
// Wrappers
// ---------------------------------------------------------------------------------------------

type KeypointMode = Exclude<MergeMode, 'vote'>

/** ttach's `*TTAWrapper(model, transforms, merge_mode, output_*_key, scaled)(image, *args)` → our `wrap.*(model, product, options).run(image, ...extra)()`. */
export const runWrapper = async (golden: Golden, models: BaseModels, c: WrapperCase, transforms: Product<readonly AnyFactor[]>): Promise<{ readonly result: E.Either<TtaError, Flat>; readonly key: string | undefined }> => {
  const mode = parseMergeMode(c.merge_mode)
  if (E.isLeft(mode)) throw new Error(`unknown merge mode '${c.merge_mode}'`)
  const merge = mode.right
  const spec = parseModel(c.model)
  const base = models[spec.base]
  const image = image4(inputOf(golden, c.input))
  const kw = c.wrapper_kwargs
  const extra = c.extra_args ?? []
  const ownKey = c.wrapper === 'SegmentationTTAWrapper' ? 'output_mask_key' : c.wrapper === 'ClassificationTTAWrapper' ? 'output_label_key' : 'output_keypoints_key'
  const key = kw[ownKey]
  const stray = Object.keys(kw).filter((k) => k.startsWith('output_') && k !== ownKey)
  if (stray.length > 0) throw new Error(`${c.wrapper} got ${stray.join(', ')}`)
  if (kw.scaled !== undefined && c.wrapper !== 'KeypointsTTAWrapper') throw new Error(`${c.wrapper} got scaled`)
  if ((spec.form === 'record') !== (key !== undefined) || (spec.form === 'record' && spec.key !== key)) {
    throw new Error(`model '${c.model}' and output key '${String(key)}' do not go together`)
  }
  if ((spec.form === 'affine') !== (extra.length > 0)) throw new Error(`model '${c.model}' and extra args [${extra.join(', ')}] do not go together`)
  const flat = (t: Tensor<Shape>): Flat => ({ shape: t.shape, data: t.data })
  const plain = async (x: Input) => base(x)
  const record = async (x: Input) => {
    const out: Record<string, Tensor<Shape>> = { aux: meanOf(x) }
    out[key ?? 'out'] = base(x)
    return out
  }
  const scaled = async (x: Input, offset: number, scale: number) => affine(base(x), offset, scale)
  const [offset = Number.NaN, scale = Number.NaN] = extra
  switch (c.wrapper) {
    case 'SegmentationTTAWrapper': {
      const result = spec.form === 'affine'
        ? await wrap.segmentation(scaled, transforms, { merge }).run(image, offset, scale)()
        : spec.form === 'record'
          ? await wrap.segmentation(record, transforms, { merge, outputKey: key ?? '' }).run(image)()
          : await wrap.segmentation(plain, transforms, { merge }).run(image)()
      return { result: E.map(flat)(result), key }
    }
    case 'ClassificationTTAWrapper': {
      if (spec.form === 'affine') throw new Error('no affine classification model')
      const result = spec.form === 'record'
        ? await wrap.classification(record, transforms, { merge, outputKey: key ?? '' }).run(image)()
        : await wrap.classification(plain, transforms, { merge }).run(image)()
      return { result: E.map(flat)(result), key }
    }
    case 'KeypointsTTAWrapper': {
      if (spec.form === 'affine') throw new Error('no affine keypoints model')
      if (merge === 'vote') throw new Error('vote is no keypoint merge')
      const kmerge: KeypointMode = merge
      const coordinates = kw.scaled === true ? 'normalized' : 'pixels'
      const result = spec.form === 'record'
        ? await wrap.keypoints(record, transforms, { merge: kmerge, outputKey: key ?? '', coordinates }).run(image)()
        : await wrap.keypoints(plain, transforms, { merge: kmerge, coordinates }).run(image)()
      return { result: E.map(flat)(result), key }
    }
  }
}

/**
 * ttach's KeypointsTTAWrapper by hand, on our views: each view's pixel coordinates are divided by
 * the input's size (`'input'`, what ttach does) or by the view's (`'view'`, what we do), put back,
 * merged and multiplied by the input's size.
 */
export const keypointsByHand = (golden: Golden, models: BaseModels, c: WrapperCase, transforms: Product<readonly AnyFactor[]>, by: 'input' | 'view', mode: MergeMode): Flat => {
  const spec = parseModel(c.model)
  const image = image4(inputOf(golden, c.input))
  const [n, , h, w] = image.shape
  const [first, ...rest] = runnableViews(transforms).map((view) => {
    const aug = unwrap('augment', view.augmentImage(image))
    const [, , vh, vw] = aug.shape
    const y = models[spec.base](aug)
    const [dw, dh] = by === 'input' ? [w, h] : [vw, vh]
    const points = y.data.map((v, i) => (i % 2 === 0 ? v / dw : v / dh))
    return unwrap('deaugment', view.deaugmentKeypoints(orThrow(tensor([n, points.length / n / 2, 2], points))))
  })
  if (first === undefined) throw new Error('no views')
  const merged = unwrap('merge', merge(mode, [first, ...rest]))
  return { shape: [n, merged.data.length / n], data: merged.data.map((v, i) => (i % 2 === 0 ? v * w : v * h)) }
}

/** Judges a wrapper's answer against ttach's (`out`, or `out_dict[key]` when an output key was given). */
export const judgeWrapper = (golden: Golden, models: BaseModels, c: WrapperCase, run: { readonly result: E.Either<TtaError, Flat>; readonly key: string | undefined }, transforms: Product<readonly AnyFactor[]>): Verdict => {
  const what = `${c.wrapper}(${c.model}, ${c.compose}, ${c.merge_mode})`
  const outcome = outcomeOf(c)
  const judge = (expected: GoldenTensor): Verdict => {
    const ours = run.result
    if (E.isLeft(ours) && ours.left._tag === 'MergeError' && (c.merge_mode === 'gmean' || c.merge_mode === 'tsharpen')) {
      // The model's outputs go negative (logits): ttach's gmean / tsharpen give NaN or a flipped sign.
      expect(ours.left.message).toContain('non-negative')
      return { kind: 'deviation', deviation: 'merge-refused', note: ours.left.message }
    }
    const mine = unwrap(what, ours)
    const [, , h, w] = inputOf(golden, c.input).shape
    const mode = parseMergeMode(c.merge_mode)
    if (c.wrapper === 'KeypointsTTAWrapper' && c.wrapper_kwargs.scaled !== true && h !== w && E.isRight(mode) && !agrees(mine, expected)) {
      // ttach's scaled=False bug: it must be exactly ttach's formula, and ours the one normalised per view.
      compare(`${what} (ttach's formula by hand)`, keypointsByHand(golden, models, c, transforms, 'input', mode.right), expected, 'tolerance')
      const byView = keypointsByHand(golden, models, c, transforms, 'view', mode.right)
      compare(`${what} (ours vs the formula normalised per view)`, mine, { shape: byView.shape, data: Array.from(byView.data) }, 'tolerance')
      return { kind: 'deviation', deviation: 'ttach-wrong-keypoints', note: 'normalised by the input size after a turn' }
    }
    return compare(what, mine, expected, 'tolerance')
  }
  switch (outcome.kind) {
    case 'out':
      expect(run.key, `${what}: ttach returned a tensor, so no output key`).toBeUndefined()
      return judge(outcome.out)
    case 'dict': {
      // ttach returns {key: tensor} when given an output key; we return the tensor.
      expect(Object.keys(outcome.dict), `${what}: ttach's dict holds the key`).toEqual([run.key])
      const expected = outcome.dict[run.key ?? '']
      if (expected === undefined) throw new Error(`${what}: no '${String(run.key)}' in ttach's dict`)
      return judge(expected)
    }
    case 'error': {
      if (E.isRight(run.result)) {
        // ttach's Scale bug inside a segmentation wrapper: one view's mask comes back at another size
        // (6×10 at 0.75 → 5×9) and ttach fails adding it to the others. Ours restores the input size.
        const [n, , h = 0, w = 0] = inputOf(golden, c.input).shape
        const back = (d: number, k: number): number => Math.trunc(Math.trunc(d * k) * (1 / k))
        const shrinks = transforms.factors.some((f) => f.name === 'Scale' && f.options.some((o) => typeof o.param === 'number' && (back(h, o.param) !== h || back(w, o.param) !== w)))
        if (c.wrapper !== 'SegmentationTTAWrapper' || !shrinks) throw new Error(`${what}: ttach raised ${outcome.error.type} (${outcome.error.message}) but ours answered`)
        expect([run.result.right.shape[0], ...run.result.right.shape.slice(2)], `${what}: ours restores the input size`).toEqual([n, h, w])
        return { kind: 'deviation', deviation: 'ttach-wrong-size', note: `ttach ${outcome.error.type}: ${outcome.error.message}` }
      }
      expect(run.result.left._tag, `${what}: ${run.result.left.message}`).toBe('UndoError')
      expect(transforms.factors.some((f) => f.name === 'FiveCrops'), `${what}: only crops refuse`).toBe(true)
      return { kind: 'deviation', deviation: 'both-refuse', note: `ttach ${outcome.error.type}, ours ${run.result.left._tag}` }
    }
  }
}

/** The golden case label of a transform case. */
export const transformLabel = (c: TransformCase): string =>
  `${c.transform}(${JSON.stringify(c.ctor)}) ${c.pname}=${showParam(c.param)} ${c.op}(${c.input})`
