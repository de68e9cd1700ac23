/**
 * The laws as predicates. Each takes concrete inputs and returns a {@link LawResult}: either the law
 * holds (with whether it applied to this input, and a measured error where the law has a bound) or
 * it fails with a reason in words ("undo(do(x)) ≠ x at [0,1,2,0]: got 0.5, expected -1").
 *
 * Laws on views run through the reference backend's public cores (`augmentImageData`,
 * `deaugmentMaskData`, `deaugmentKeypointsData`), i.e. exactly what the wrappers run.
 *
 * | law | for | statement |
 * | --- | --- | --- |
 * | `iso` | iso views | `undo(do(x)) = x` and `do(undo(y)) = y`, exactly |
 * | `retraction` | retraction views | `undo(do(x)) = x`, exactly |
 * | `lossy` | lossy views that undo masks | shape restored exactly, `max |undo(do(x)) − x| ≤ bound` on smooth x |
 * | `invariant` | invariant views (Add, Multiply) | no pixel moves; `undo(y) = y` |
 * | `shape` | every view | view size = `viewSize` = resolveAugment's last stage = the data's; masks come back at the input size |
 * | `bounds` | every view | every gather (built-in or custom) reads inside its input |
 * | `keypoints` | views that undo keypoints | `undo(move(p)) = p` and `move(undo(p)) = p` |
 * | `keypoint-pixel` | flip/turn/custom iso views | a pixel centre moves with its pixel |
 * | `box-round-trip` | views that undo boxes | a box moved into the view comes back as itself cut to the view's window: exactly for flips, turns, crops, tiles, shifts; within a tolerance through scales, resizes and custom maps; always `x1 ≤ x2`, `y1 ≤ y2` |
 * | `box-pixel` | views that undo boxes | the box around a rectangle drawn on the input, found on the real augmented view, comes back as the rectangle cut to the window: exactly without resampling, within a stated bound with it |
 * | `label` | every view | labels come back untouched |
 * | `simplify` | every view without Add/Multiply | the simplified, fused chain = the factor steps run one by one |
 * | `d4-*` | the group D4 | identity, associativity, inverses, closure, `after` = composed index maps = composed point maps |
 * | `merge-*` | every merge mode | merging n copies of x; invariance to the order of the views |
 * | `fusion-order`, `wbf-copies`, `nms-separation` | box fusion (fusion.ts) | invariance to the order of the views; WBF of n copies; NMS keeps no overlapping pair |
 *
 * For mask laws the image plays the part of an NCHW "mask", and Add/Multiply steps are left out of
 * `do`: a model's mask is not shifted or scaled, masks are invariant under them.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { after, d4Elements, d4Identity, d4Index, d4Table, equals, inverse } from '../algebra/d4.js'
import type { ViewSpec } from '../algebra/product.js'
import { augmentImageData, deaugmentBoxesData, deaugmentKeypointsData, deaugmentMaskData, viewSize } from '../backend/reference/views.js'
import { boxMaps, clipBox, type Corners } from '../transform/box-map.js'
import { accumulator, voteLayout, type MergeMode } from '../merge/merge.js'
import { d4IndexMap, d4MovePoint, d4OutSize, thenMap, type AffineIndexMap, type D4Element } from '../transform/d4.js'
import { chainSizes, movePoint, resolveAugment, resolveUndoMask, undoPoint, type Stage, type Step } from '../transform/step.js'
import type { Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/tensor.js'

// -------------------------------------------------------------------------------------------------
// model
// -------------------------------------------------------------------------------------------------

/**
 * Every law the kit knows, by name.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws } from 'tta-lens'
 * const report = laws.check(aliases.hflip())
 * const names: readonly laws.LawName[] = E.isRight(report) ? report.right.laws.map((l) => l.law) : []
 * assert.ok(names.includes('iso'))
 * @category model
 */
export type LawName =
  | 'iso'
  | 'retraction'
  | 'lossy'
  | 'invariant'
  | 'shape'
  | 'bounds'
  | 'keypoints'
  | 'keypoint-pixel'
  | 'box-round-trip'
  | 'box-pixel'
  | 'label'
  | 'simplify'
  | 'd4-identity'
  | 'd4-associativity'
  | 'd4-inverse'
  | 'd4-closure'
  | 'd4-index-map'
  | 'd4-point-map'
  | 'merge-copies'
  | 'merge-order'
  | 'fusion-order'
  | 'wbf-copies'
  | 'nms-separation'
  | 'construction'

/**
 * The outcome of one law on one input. `applied: false` means the input was outside the law's
 * domain (a lossy view that cannot be made from so small an image), so it held vacuously.
 * @example
 * import { dihedral4, laws } from 'tta-lens'
 * const r: laws.LawResult = laws.groupInverse(dihedral4.d4(1, false))
 * assert.ok(r.holds ? r.applied : r.reason.length > 0)
 * @category model
 */
export type LawResult =
  | { readonly holds: true; readonly applied: boolean; readonly error?: number }
  | { readonly holds: false; readonly reason: string }

/**
 * Plain tensor data: a run-time shape and row-major values. Any `Tensor` is one.
 * @example
 * import { laws } from 'tta-lens'
 * const d: laws.Data = { shape: [1, 1, 1, 2], data: Float32Array.of(0, 1) }
 * assert.strictEqual(laws.firstDifference(d, d), undefined)
 * @category model
 */
export interface Data {
  readonly shape: readonly number[]
  readonly data: Float32Array
}

// -------------------------------------------------------------------------------------------------
// helpers
// -------------------------------------------------------------------------------------------------

const ok: LawResult = { holds: true, applied: true }
const vacuous: LawResult = { holds: true, applied: false }
const fail = (reason: string): LawResult => ({ holds: false, reason })
const show = (shape: readonly number[]): string => `[${shape.join(',')}]`
const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i])

const multiIndex = (shape: readonly number[], flat: number): string => {
  const index: number[] = []
  let rest = flat
  for (let axis = shape.length - 1; axis >= 0; axis--) {
    const d = shape[axis] ?? 1
    index.unshift(rest % d)
    rest = Math.floor(rest / d)
  }
  return show(index)
}

/**
 * The first place where `got` and `want` differ (by more than `tolerance`), in words, or
 * `undefined` when they agree. Shapes must match exactly; NaN never matches.
 * @example
 * import { laws } from 'tta-lens'
 * const a = { shape: [1, 2], data: Float32Array.of(1, 2) }
 * assert.strictEqual(laws.firstDifference(a, a), undefined)
 * assert.strictEqual(laws.firstDifference(a, { shape: [1, 2], data: Float32Array.of(1, 3) }), 'at [0,1]: got 2, expected 3')
 * @category utils
 */
export const firstDifference = (got: Data, want: Data, tolerance = 0): string | undefined => {
  if (!sameShape(got.shape, want.shape)) return `shape ${show(got.shape)}, expected ${show(want.shape)}`
  if (got.data.length !== want.data.length) return `${got.data.length} values, expected ${want.data.length}`
  for (let k = 0; k < want.data.length; k++) {
    const g = got.data[k] ?? Number.NaN
    const w = want.data[k] ?? Number.NaN
    if (!(g === w || Math.abs(g - w) <= tolerance)) return `at ${multiIndex(want.shape, k)}: got ${g}, expected ${w}`
  }
  return undefined
}

const maxAbsDifference = (got: Data, want: Data): { readonly error: number; readonly at: number } => {
  let error = 0
  let at = 0
  for (let k = 0; k < want.data.length; k++) {
    const d = Math.abs((got.data[k] ?? Number.NaN) - (want.data[k] ?? Number.NaN))
    if (!(d <= error)) {
      error = d
      at = k
    }
  }
  return { error, at }
}

const spatial = (x: Data): readonly [number, number] => [x.shape[2] ?? 0, x.shape[3] ?? 0]

/**
 * The view without its Add/Multiply steps: what a mask goes through (masks are invariant under
 * pointwise ops, so `do` for the mask laws is the geometry alone).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws, product, views, transforms as T } from 'tta-lens'
 * const add = T.add([1])
 * if (E.isRight(add)) {
 *   const [, shifted] = views(product(T.hflip(), add.right)).slice(2)
 *   assert.deepStrictEqual(laws.geometry(shifted!).steps.map((s) => s.op), ['d4'])
 * }
 * @category utils
 */
export const geometry = (spec: ViewSpec): ViewSpec => ({ ...spec, steps: spec.steps.filter((s) => s.op !== 'pointwise') })

/**
 * A bare view of a chain of steps, for running the laws on a chain that no product made.
 * @example
 * import { dihedral4, laws } from 'tta-lens'
 * const turn = laws.viewOfSteps([{ op: 'd4', element: dihedral4.d4(1, false) }])
 * assert.strictEqual(turn.kind, 'iso')
 * @category constructors
 */
export const viewOfSteps = (steps: readonly Step[], kind: ViewSpec['kind'] = 'iso', name = 'steps'): ViewSpec => ({ index: 0, params: [], name, steps, kind })

// -------------------------------------------------------------------------------------------------
// mask laws by kind
// -------------------------------------------------------------------------------------------------

const roundTrip = (spec: ViewSpec, x: Data): E.Either<string, Data> => {
  const [h, w] = spatial(x)
  const done = augmentImageData(spec, x.shape, x.data)
  if (E.isLeft(done)) return E.left(`do(x) fails on a ${show(x.shape)} input: ${done.left.message}`)
  const back = deaugmentMaskData(spec, done.right.shape, done.right.data, h, w)
  return E.isLeft(back) ? E.left(`undo(do(x)) fails on a ${show(x.shape)} input: ${back.left.message}`) : E.right(back.right)
}

/**
 * Retraction law: `undo(do(x)) = x` exactly, with the image used as an NCHW mask.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws, product, tensor, views, transforms as T } from 'tta-lens'
 * const up = T.scale([2])
 * const x = tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])
 * if (E.isRight(up) && E.isRight(x)) {
 *   const [, twice] = views(product(up.right))
 *   assert.ok(laws.retraction(twice!, x.right).holds)
 * }
 * @category laws
 */
export const retraction = (spec: ViewSpec, x: Data): LawResult => {
  const back = roundTrip(geometry(spec), x)
  if (E.isLeft(back)) return fail(back.left)
  const d = firstDifference(back.right, x)
  return d === undefined ? ok : fail(`undo(do(x)) ≠ x for a ${show(x.shape)} input, ${d}`)
}

/**
 * Iso law: `undo(do(x)) = x` and `do(undo(y)) = y` exactly. `y` lives in the view's frame (its
 * height and width are the view's for an input the size of `x`; its channels may differ).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws, tensor, views } from 'tta-lens'
 * const x = tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])
 * const y = tensor([1, 2, 3, 2], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
 * const rot90 = views(aliases.d4())[1]!
 * if (E.isRight(x) && E.isRight(y)) assert.ok(laws.iso(rot90, x.right, y.right).holds)
 * @category laws
 */
export const iso = (spec: ViewSpec, x: Data, y: Data): LawResult => {
  const g = geometry(spec)
  const there = retraction(g, x)
  if (!there.holds) return there
  const [h, w] = spatial(x)
  const back = deaugmentMaskData(g, y.shape, y.data, h, w)
  if (E.isLeft(back)) return fail(`undo(y) fails for a ${show(y.shape)} view-frame tensor: ${back.left.message}`)
  const again = augmentImageData(g, back.right.shape, back.right.data)
  if (E.isLeft(again)) return fail(`do(undo(y)) fails for a ${show(y.shape)} view-frame tensor: ${again.left.message}`)
  const d = firstDifference(again.right, y)
  return d === undefined ? ok : fail(`do(undo(y)) ≠ y for a ${show(y.shape)} view-frame tensor (input ${h}x${w}), ${d}`)
}

/**
 * A lossy view's error allowance on an input x: `absolute + perStep · (sy·ry + sx·rx)`, where
 * `sy`, `sx` are x's largest one-pixel steps down and across (how fast the picture changes) and
 * `ry`, `rx` ({@link coarsestRatios}) how far a value may travel per axis: how many input pixels
 * the coarsest plane of the view squeezes into one, plus any translation. A resample can only blur
 * over about one coarse pixel, and a translation refills the shifted-out border from the edge, so
 * the error scales with both; a wrong undo (a flip forgotten) moves values by many pixels and
 * exceeds it.
 * @example
 * import { aliases, laws } from 'tta-lens'
 * const tight: laws.LossyBound = { absolute: 0.17, perStep: 0 }   // bilinear ×0.5 on smooth images
 * laws.check(aliases.flip(), { lossyBound: tight })
 * @category model
 */
export interface LossyBound {
  readonly absolute: number
  readonly perStep: number
}

/**
 * The largest one-pixel step of an NCHW input along the height and along the width.
 * @example
 * import { laws } from 'tta-lens'
 * assert.deepStrictEqual(laws.largestSteps({ shape: [1, 1, 2, 2], data: Float32Array.of(0, 1, 0.5, 0.5) }), [0.5, 1])
 * @category utils
 */
export const largestSteps = (x: Data): readonly [number, number] => {
  const [n = 0, c = 0, h = 0, w = 0] = x.shape
  let sy = 0
  let sx = 0
  for (let p = 0; p < n * c; p++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const k = (p * h + i) * w + j
        const v = x.data[k] ?? 0
        if (i + 1 < h) sy = Math.max(sy, Math.abs((x.data[k + w] ?? 0) - v))
        if (j + 1 < w) sx = Math.max(sx, Math.abs((x.data[k + 1] ?? 0) - v))
      }
    }
  }
  return [sy, sx]
}

/**
 * How far, in input pixels, the view's round trip may carry a value along each input axis
 * (height, width): the coarsest plane's squeeze (how many input pixels it packs into one, at least
 * 1), plus the pixels a translation shifts out of the frame (they come back as the edge's value).
 * Quarter turns (and custom gathers that swap the sides) are followed, so a turned, halved view
 * counts its halving against the right axis.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws, product, views, transforms as T } from 'tta-lens'
 * const half = T.scale([0.5])
 * if (E.isRight(half)) assert.deepStrictEqual(laws.coarsestRatios(views(product(half.right))[1]!, 8, 6), [2, 2])
 * @category utils
 */
export const coarsestRatios = (spec: ViewSpec, height: number, width: number): readonly [number, number] => {
  const sizes = chainSizes(spec.steps, height, width)
  if (E.isLeft(sizes)) return [1, 1]
  let swapped = false
  let ry = 1
  let rx = 1
  let shiftY = 0
  let shiftX = 0
  spec.steps.forEach((step, k) => {
    const [ih = 1, iw = 1] = sizes.right[k] ?? []
    const [oh = 1, ow = 1] = sizes.right[k + 1] ?? []
    if ((step.op === 'd4' && step.element.turns % 2 === 1) || (step.op === 'custom' && ih !== iw && oh === iw && ow === ih)) swapped = !swapped
    const [sh, sw] = swapped ? [ow, oh] : [oh, ow]
    ry = Math.max(ry, height / sh)
    rx = Math.max(rx, width / sw)
    if (step.op === 'translate') {
      const [dy, dx] = swapped ? [step.dx, step.dy] : [step.dy, step.dx]
      shiftY += Math.abs(dy) * (height / sh)
      shiftX += Math.abs(dx) * (width / sw)
    }
  })
  return [ry + shiftY, rx + shiftX]
}

/**
 * Lossy law: the mask comes back at exactly the input's shape, and
 * `max |undo(do(x)) − x|` stays within the {@link LossyBound} for x. The result carries the
 * measured error. An input too small for the view (a scale that would empty it) is outside the
 * law's domain.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws, product, tensor, views, transforms as T } from 'tta-lens'
 * const half = T.scale([0.5], { interpolation: 'bilinear' })
 * const flat = tensor([1, 1, 4, 6], new Array(24).fill(0.25))
 * if (E.isRight(half) && E.isRight(flat)) {
 *   const r = laws.lossy(views(product(half.right))[1]!, flat.right, { absolute: 1e-6, perStep: 0 })
 *   assert.ok(r.holds && r.error === 0)
 * }
 * @category laws
 */
export const lossy = (spec: ViewSpec, x: Data, bound: LossyBound): LawResult => {
  const g = geometry(spec)
  const [h, w] = spatial(x)
  const done = augmentImageData(g, x.shape, x.data)
  if (E.isLeft(done)) return vacuous
  const back = deaugmentMaskData(g, done.right.shape, done.right.data, h, w)
  if (E.isLeft(back)) return fail(`undo(do(x)) fails on a ${show(x.shape)} input: ${back.left.message}`)
  if (!sameShape(back.right.shape, x.shape)) return fail(`undo(do(x)) has shape ${show(back.right.shape)} but the input is ${show(x.shape)}`)
  const { error, at } = maxAbsDifference(back.right, x)
  const [sy, sx] = bound.perStep === 0 ? [0, 0] : largestSteps(x)
  const [ry, rx] = bound.perStep === 0 ? [1, 1] : coarsestRatios(g, h, w)
  const allowed = bound.absolute + bound.perStep * (sy * ry + sx * rx)
  if (error <= allowed) return { holds: true, applied: true, error }
  const how = bound.perStep === 0 ? `${bound.absolute}` : `${allowed} = ${bound.absolute} + ${bound.perStep}·(${sy}·${ry} + ${sx}·${rx}) (largest one-pixel steps × coarsest ratios)`
  return fail(`max |undo(do(x)) − x| = ${error} > allowed ${how} on a ${show(x.shape)} input, at ${multiIndex(x.shape, at)}`)
}

/**
 * Invariant law (Add, Multiply): the view moves no pixel, keeps the shape, and `undo(y) = y`.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws, product, tensor, views, transforms as T } from 'tta-lens'
 * const add = T.add([0.5])
 * const x = tensor([1, 1, 1, 2], [1, 2])
 * if (E.isRight(add) && E.isRight(x)) assert.ok(laws.invariant(views(product(add.right))[1]!, x.right, x.right).holds)
 * @category laws
 */
export const invariant = (spec: ViewSpec, x: Data, y: Data): LawResult => {
  const moving = geometry(spec).steps
  if (moving.length > 0) return fail(`an invariant view must not move pixels, but it has ${moving.map((s) => s.op).join(', ')} steps`)
  const [h, w] = spatial(x)
  const done = augmentImageData(spec, x.shape, x.data)
  if (E.isLeft(done)) return fail(`do(x) fails on a ${show(x.shape)} input: ${done.left.message}`)
  if (!sameShape(done.right.shape, x.shape)) return fail(`do(x) has shape ${show(done.right.shape)} but the input is ${show(x.shape)}`)
  const back = deaugmentMaskData(spec, y.shape, y.data, h, w)
  if (E.isLeft(back)) return fail(`undo(y) fails for a ${show(y.shape)} mask: ${back.left.message}`)
  const d = firstDifference(back.right, y)
  return d === undefined ? ok : fail(`undo(y) ≠ y for a ${show(y.shape)} mask, ${d}`)
}

// -------------------------------------------------------------------------------------------------
// shape and bounds
// -------------------------------------------------------------------------------------------------

/**
 * Size after running stages from an h×w plane.
 * @example
 * import { laws } from 'tta-lens'
 * assert.deepStrictEqual(laws.stagesOutSize([{ kind: 'pointwise', scale: 2, shift: 0 }], 3, 4), [3, 4])
 * @category utils
 */
export const stagesOutSize = (stages: readonly Stage[], height: number, width: number): readonly [number, number] =>
  stages.reduce<readonly [number, number]>((size, s) =>
    s.kind === 'gather' ? [s.map.outHeight, s.map.outWidth] : s.kind === 'pointwise' ? size : [s.outHeight, s.outWidth], [height, width])

/**
 * Shape law: for an input `x`, the size `viewSize` reports, the size resolveAugment's stages end at
 * and the shape of the augmented data all agree (including on failing, for a crop larger than the
 * input); when `undoesMask`, a `maskChannels`-channel mask on the view comes back at the input's
 * height and width.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws, tensor, views } from 'tta-lens'
 * const x = tensor([1, 3, 2, 5], new Array(30).fill(0))
 * if (E.isRight(x)) for (const v of views(aliases.d4())) assert.ok(laws.viewShape(v, x.right, 2, true).holds)
 * @category laws
 */
export const viewShape = (spec: ViewSpec, x: Data, maskChannels: number, undoesMask: boolean): LawResult => {
  const [n = 0, c = 0, h = 0, w = 0] = x.shape
  const size = viewSize(spec, h, w)
  const stages = resolveAugment(spec.steps, h, w)
  const done = augmentImageData(spec, x.shape, x.data)
  if (E.isLeft(size)) {
    return E.isRight(stages) || E.isRight(done)
      ? fail(`viewSize fails on ${h}x${w} (${size.left.message}) but ${E.isRight(stages) ? 'resolveAugment' : 'augmentImage'} succeeds`)
      : vacuous
  }
  const [vh, vw] = size.right
  if (E.isLeft(stages)) return fail(`viewSize gives ${vh}x${vw} for ${h}x${w} but resolveAugment fails: ${stages.left.message}`)
  if (E.isLeft(done)) return fail(`viewSize gives ${vh}x${vw} for ${h}x${w} but augmentImage fails: ${done.left.message}`)
  const [sh, sw] = stagesOutSize(stages.right, h, w)
  if (sh !== vh || sw !== vw) return fail(`viewSize gives ${vh}x${vw} for ${h}x${w} but resolveAugment's stages end at ${sh}x${sw}`)
  const want = [n, c, vh, vw]
  if (!sameShape(done.right.shape, want)) return fail(`augmentImage of ${show(x.shape)} has shape ${show(done.right.shape)}, viewSize says ${show(want)}`)
  if (done.right.data.length !== n * c * vh * vw) return fail(`augmentImage of ${show(x.shape)} has ${done.right.data.length} values for shape ${show(want)}`)
  if (!undoesMask) return ok
  const mask = Float32Array.from({ length: n * maskChannels * vh * vw }, (_, k) => k % 7)
  const back = deaugmentMaskData(spec, [n, maskChannels, vh, vw], mask, h, w)
  if (E.isLeft(back)) return fail(`the view offers mask undo, but a ${show([n, maskChannels, vh, vw])} mask fails: ${back.left.message}`)
  const home = [n, maskChannels, h, w]
  if (!sameShape(back.right.shape, home)) return fail(`a ${show([n, maskChannels, vh, vw])} mask comes back as ${show(back.right.shape)}, not at the input size ${show(home)}`)
  return back.right.data.length === n * maskChannels * h * w ? ok : fail(`the mask comes back with ${back.right.data.length} values for ${show(home)}`)
}

const checkStages = (what: string, stages: readonly Stage[], height: number, width: number): string | undefined => {
  let h = height
  let w = width
  for (const [k, s] of stages.entries()) {
    const where = `${what} stage ${k} (${s.kind}${s.kind === 'custom' ? ` '${s.name}'` : ''})`
    if (s.kind === 'gather') {
      const m = s.map
      if (s.inHeight !== h || s.inWidth !== w) return `${where} expects a ${s.inHeight}x${s.inWidth} input but gets ${h}x${w}`
      // A gather with a fill rule (a translation) reads outside on purpose: the fill stands in there.
      const corners: readonly (readonly [number, number])[] = [[0, 0], [0, m.outWidth - 1], [m.outHeight - 1, 0], [m.outHeight - 1, m.outWidth - 1]]
      for (const [i, j] of s.fill === undefined ? corners : []) {
        const si = m.ii * i + m.ij * j + m.i0
        const sj = m.ji * i + m.jj * j + m.j0
        if (si < 0 || si >= h || sj < 0 || sj >= w) return `${where} reads (${si}, ${sj}) outside its ${h}x${w} input at output (${i}, ${j})`
      }
      h = m.outHeight
      w = m.outWidth
    } else if (s.kind === 'custom') {
      for (let i = 0; i < s.outHeight; i++) {
        for (let j = 0; j < s.outWidth; j++) {
          const [si, sj] = s.source(i, j)
          if (!Number.isInteger(si) || !Number.isInteger(sj) || si < 0 || si >= h || sj < 0 || sj >= w) {
            return `${where} reads (${si}, ${sj}) outside its ${h}x${w} input at output (${i}, ${j}) of ${s.outHeight}x${s.outWidth}`
          }
        }
      }
      h = s.outHeight
      w = s.outWidth
    } else if (s.kind === 'resample') {
      h = s.outHeight
      w = s.outWidth
    }
  }
  return undefined
}

/**
 * Bounds law: every gather of the view, built-in or custom, forward (augment) and backward (mask
 * undo), reads integer pixels inside its input (a gather with a fill rule, a translation, reads
 * outside on purpose and is exempt). A custom gather that reads out of range would silently take a
 * neighbouring row's pixel (or NaN) instead of failing.
 * @example
 * import { aliases, laws, views } from 'tta-lens'
 * for (const v of views(aliases.d4())) assert.ok(laws.bounds(v, 3, 5).holds)
 * @category laws
 */
export const bounds = (spec: ViewSpec, height: number, width: number): LawResult => {
  const size = viewSize(spec, height, width)
  const stages = resolveAugment(spec.steps, height, width)
  if (E.isLeft(size) || E.isLeft(stages)) return vacuous
  const forward = checkStages('augment', stages.right, height, width)
  if (forward !== undefined) return fail(forward)
  const undo = resolveUndoMask(spec.steps, height, width)
  if (E.isLeft(undo)) return ok
  const [vh, vw] = size.right
  const backward = checkStages('undo', undo.right, vh, vw)
  return backward === undefined ? ok : fail(backward)
}

// -------------------------------------------------------------------------------------------------
// keypoints and labels
// -------------------------------------------------------------------------------------------------

const closePoint = (a: readonly [number, number], b: readonly [number, number], tolerance: number): boolean =>
  Math.abs(a[0] - b[0]) <= tolerance && Math.abs(a[1] - b[1]) <= tolerance
const showPoint = ([x, y]: readonly [number, number]): string => `(${x}, ${y})`

/**
 * Keypoint round trip: with `move` the view's forward point map (`movePoint`) and `undo` the
 * public `deaugmentKeypoints`, `undo(move(p)) = p` and `move(undo(p)) = p` within `tolerance`
 * (exact for flips and turns on binary-fraction points). `size` is the image's (height, width),
 * needed by views that shift by whole pixels (Translate); a view that cannot be made from an image
 * of that size is outside the law's domain.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws, tensor, views } from 'tta-lens'
 * const points = tensor([1, 2, 2], [0.25, 0.5, 1, 0])
 * if (E.isRight(points)) for (const v of views(aliases.d4())) assert.ok(laws.keypointRoundTrip(v, points.right, 0).holds)
 * @category laws
 */
export const keypointRoundTrip = (spec: ViewSpec, points: Data, tolerance: number, size?: readonly [number, number]): LawResult => {
  const sizes = size === undefined ? E.right(undefined) : chainSizes(spec.steps, size[0], size[1])
  if (E.isLeft(sizes)) return vacuous
  const [h, w] = size ?? []
  const move = movePoint(spec.steps, sizes.right)
  if (E.isLeft(move)) return fail(`the view undoes keypoints but has no forward point map: ${move.left.message}`)
  const moved = new Float32Array(points.data.length)
  for (let p = 0; p + 1 < points.data.length; p += 2) {
    const [x, y] = move.right(points.data[p] ?? Number.NaN, points.data[p + 1] ?? Number.NaN)
    moved[p] = x
    moved[p + 1] = y
  }
  const back = deaugmentKeypointsData(spec, points.shape, moved, h, w)
  if (E.isLeft(back)) return fail(`deaugmentKeypoints fails${size === undefined ? '' : ` for a ${size[0]}x${size[1]} image`}: ${back.left.message}`)
  const d = firstDifference({ shape: points.shape, data: back.right }, points, tolerance)
  if (d !== undefined) return fail(`undo(move(p)) ≠ p, ${d}`)
  const undone = deaugmentKeypointsData(spec, points.shape, points.data, h, w)
  if (E.isLeft(undone)) return fail(`deaugmentKeypoints fails: ${undone.left.message}`)
  for (let p = 0; p + 1 < points.data.length; p += 2) {
    const want: readonly [number, number] = [points.data[p] ?? Number.NaN, points.data[p + 1] ?? Number.NaN]
    const got = move.right(undone.right[p] ?? Number.NaN, undone.right[p + 1] ?? Number.NaN)
    if (!closePoint(got, want, tolerance)) return fail(`move(undo(p)) ≠ p: point ${p / 2} ${showPoint(want)} comes back as ${showPoint(got)}`)
  }
  return ok
}

/**
 * Keypoint/pixel consistency (flip, turn and custom iso views): the centre
 * `((j + .5)/W, (i + .5)/H)` of pixel (i, j) moves to the centre of the view pixel that pixel
 * lands on, and undoing that centre gives the original one back. Checked with a one-hot image.
 * @example
 * import { aliases, laws, views } from 'tta-lens'
 * for (const v of views(aliases.d4())) assert.ok(laws.keypointPixel(v, { height: 2, width: 3, i: 0, j: 2 }, 1e-9).holds)
 * @category laws
 */
export const keypointPixel = (
  spec: ViewSpec,
  px: { readonly height: number; readonly width: number; readonly i: number; readonly j: number },
  tolerance: number,
): LawResult => {
  const g = geometry(spec)
  if (!g.steps.every((s) => s.op === 'd4' || s.op === 'custom')) return vacuous
  const { height: h, width: w, i, j } = px
  const hot = new Float32Array(h * w)
  hot[i * w + j] = 1
  const done = augmentImageData(g, [1, 1, h, w], hot)
  if (E.isLeft(done)) return fail(`do fails on a ${h}x${w} image: ${done.left.message}`)
  const [, , vh = 0, vw = 0] = done.right.shape
  const lit = done.right.data.reduce<number[]>((acc, v, k) => (v === 0 ? acc : [...acc, k]), [])
  const [k] = lit
  if (lit.length !== 1 || k === undefined || done.right.data[k] !== 1) {
    return fail(`the view does not permute pixels: pixel (${i}, ${j}) of ${h}x${w} shows up at ${lit.length} places of the ${vh}x${vw} view`)
  }
  const vi = Math.floor(k / vw)
  const vj = k % vw
  const move = movePoint(g.steps)
  const undo = undoPoint(g.steps)
  if (E.isLeft(move) || E.isLeft(undo)) return fail('the view has no keypoint maps')
  const centre: readonly [number, number] = [(j + 0.5) / w, (i + 0.5) / h]
  const viewCentre: readonly [number, number] = [(vj + 0.5) / vw, (vi + 0.5) / vh]
  const moved = move.right(centre[0], centre[1])
  if (!closePoint(moved, viewCentre, tolerance)) {
    return fail(`pixel (${i}, ${j}) of ${h}x${w} lands on (${vi}, ${vj}) of ${vh}x${vw}, centre ${showPoint(viewCentre)}, but its centre ${showPoint(centre)} moves to ${showPoint(moved)}`)
  }
  const back = undo.right(viewCentre[0], viewCentre[1])
  return closePoint(back, centre, tolerance)
    ? ok
    : fail(`the centre ${showPoint(viewCentre)} of view pixel (${vi}, ${vj}) comes back to ${showPoint(back)}, not to ${showPoint(centre)} of pixel (${i}, ${j})`)
}

// -------------------------------------------------------------------------------------------------
// boxes
// -------------------------------------------------------------------------------------------------

/**
 * How far a box may come back from where it should be, in input pixels: `absolute` plus
 * `perViewPixel` times the size of one view pixel in input pixels (along that axis).
 * @example
 * import { laws } from 'tta-lens'
 * const strict: laws.BoxBound = { absolute: 0, perViewPixel: 1 }
 * assert.strictEqual(strict.perViewPixel, 1)
 * @category model
 */
export interface BoxBound {
  readonly absolute: number
  readonly perViewPixel: number
}

const showBox = (b: Corners | readonly number[]): string => `[${b.join(', ')}]`
const ordered = (b: Corners): boolean => b[0] <= b[2] && b[1] <= b[3]
/** Steps that move pixels without resampling: box maps through them are exact on binary fractions. */
const exactSteps = (spec: ViewSpec): boolean => spec.steps.every((s) => s.op === 'd4' || s.op === 'crop' || s.op === 'translate' || s.op === 'pointwise')

/** The largest difference between two boxes, side by side. */
const boxError = (a: Corners, b: Corners): number => Math.max(...a.map((v, k) => Math.abs(v - (b[k] ?? Number.NaN))))

/**
 * Box round trip, through the path the detection wrapper runs: a box `b` of an input of `size`
 * (pixels), moved into the view (`boxMaps(…).move`) and cut to what the view shows of the input, comes back through
 * `deaugmentBoxesData` as `b` cut to the view's window, ordered (`x1 ≤ x2`, `y1 ≤ y2`). Exactly when
 * the view only flips, turns, crops, tiles and shifts (on binary-fraction corners); within
 * `tolerance` input pixels through scales, resizes and custom point maps (float rounding of the
 * ratios). A box the view does not show at all is outside the law's domain.
 * @example
 * import { aliases, laws, views } from 'tta-lens'
 * for (const v of views(aliases.d4())) assert.ok(laws.boxRoundTrip(v, [0.5, 1, 4.25, 2], [3, 5], 0).holds)
 * @category laws
 */
export const boxRoundTrip = (spec: ViewSpec, box: Corners, size: readonly [number, number], tolerance: number): LawResult => {
  const [h, w] = size
  const maps = boxMaps(spec.steps, h, w)
  if (E.isLeft(maps)) return maps.left._tag === 'ShapeError' ? vacuous : fail(`the view undoes boxes, but: ${maps.left.message}`)
  const [vh, vw] = maps.right.view
  // A view that shows none of the input (a shift by the whole image) has nothing to bring back.
  const win = maps.right.window
  if (win === undefined) return vacuous
  // What the view shows of the input: its window, moved there (a shift's fill is not part of it).
  const moved = clipBox(maps.right.move(box), clipBox(maps.right.move(win), [0, 0, vw, vh]))
  const want = clipBox(box, win)
  if (moved === undefined || want === undefined) {
    return moved === want ? vacuous
      : fail(`box ${showBox(box)} of ${h}x${w} ${moved === undefined ? 'is inside the window but leaves the view' : `lands on the view at ${showBox(moved)} but lies outside the window ${showBox(win)}`}`)
  }
  if (!ordered(moved)) return fail(`box ${showBox(box)} moves to the unordered ${showBox(moved)}`)
  const back = deaugmentBoxesData(spec, { boxes: [moved], scores: [0.5], labels: [0] }, h, w)
  if (E.isLeft(back)) return fail(`undo fails for ${showBox(moved)} on the ${vh}x${vw} view: ${back.left.message}`)
  const [got] = back.right.boxes
  if (got === undefined || back.right.boxes.length !== 1) return fail(`${showBox(moved)} on the ${vh}x${vw} view comes back as ${back.right.boxes.length} boxes`)
  if (!ordered(got)) return fail(`${showBox(moved)} comes back unordered: ${showBox(got)}`)
  const error = boxError(got, want)
  const allowed = exactSteps(spec) ? 0 : tolerance
  return error <= allowed
    ? { holds: true, applied: true, error }
    : fail(`box ${showBox(box)} of ${h}x${w} goes to ${showBox(moved)} on the ${vh}x${vw} view and comes back as ${showBox(got)}, not ${showBox(want)} (off by ${error} > ${allowed})`)
}

/**
 * Box/pixel consistency: draw an integer rectangle of ones on a zero `height`×`width` image, run the
 * view's geometry on it (the real gathers and resamples), take the box around the nonzero pixels of
 * the view and bring it back with `deaugmentBoxesData`: it must be the rectangle cut to the view's
 * window. Exact for views without resampling; with resampling each side may be off by
 * `bound.absolute + bound.perViewPixel × (one view pixel in input pixels)` — interpolation spreads
 * a rectangle over neighbouring view pixels, nearest sampling may skip its edge. The result carries
 * the largest error in input pixels. A rectangle the view does not show is outside the domain.
 * @example
 * import { aliases, laws, views } from 'tta-lens'
 * const rect = { height: 3, width: 5, box: [1, 0, 4, 2] as const }
 * for (const v of views(aliases.d4())) assert.ok(laws.boxPixel(v, rect, { absolute: 0, perViewPixel: 0 }).holds)
 * @category laws
 */
export const boxPixel = (
  spec: ViewSpec,
  rect: { readonly height: number; readonly width: number; readonly box: Corners },
  bound: BoxBound,
): LawResult => {
  const g = geometry(spec)
  const { height: h, width: w, box } = rect
  const maps = boxMaps(g.steps, h, w)
  if (E.isLeft(maps)) return maps.left._tag === 'ShapeError' ? vacuous : fail(`the view undoes boxes, but: ${maps.left.message}`)
  const image = new Float32Array(h * w)
  for (let i = box[1]; i < box[3]; i++) image.fill(1, i * w + box[0], i * w + box[2])
  const done = augmentImageData(g, [1, 1, h, w], image)
  if (E.isLeft(done)) return vacuous
  const [, , vh = 0, vw = 0] = done.right.shape
  let found: [number, number, number, number] | undefined
  done.right.data.forEach((v, k) => {
    if (!(Math.abs(v) > 1e-6)) return
    const i = Math.floor(k / vw)
    const j = k % vw
    found = found === undefined ? [j, i, j + 1, i + 1] : [Math.min(found[0], j), Math.min(found[1], i), Math.max(found[2], j + 1), Math.max(found[3], i + 1)]
  })
  const want = clipBox(box, maps.right.window)
  const exact = exactSteps(g)
  // A zero-area overlap with the window is a line along its edge: no pixel of it is seen.
  const seen = want !== undefined && want[0] < want[2] && want[1] < want[3]
  if (found === undefined) {
    return !seen ? { holds: true, applied: true, error: 0 }
      : exact ? fail(`rectangle ${showBox(box)} of ${h}x${w} lies in the window ${showBox(maps.right.window ?? [])} but no pixel of it reaches the ${vh}x${vw} view`)
        : vacuous
  }
  const unit = maps.right.undo([0, 0, 1, 1])
  const allow = exact ? [0, 0] : [unit[2] - unit[0], unit[3] - unit[1]].map((r) => bound.absolute + bound.perViewPixel * r)
  const [ax = 0, ay = 0] = allow
  if (!seen) {
    // An edge fill repeats the input's edge into the part a shift brought in, outside the window;
    // interpolation blurs a rectangle just outside the window into it (by no more than the bound).
    const win = maps.right.window
    if (g.steps.some((st) => st.op === 'translate' && st.fill === 'edge') || win === undefined) return vacuous
    const gapX = Math.max(win[0] - box[2], box[0] - win[2], 0)
    const gapY = Math.max(win[1] - box[3], box[1] - win[3], 0)
    return !exact && gapX <= ax && gapY <= ay ? { holds: true, applied: true, error: Math.max(gapX, gapY) }
      : fail(`rectangle ${showBox(box)} of ${h}x${w} lies outside the window ${showBox(win)} but shows up at ${showBox(found)} on the ${vh}x${vw} view`)
  }
  const back = deaugmentBoxesData(g, { boxes: [found], scores: [1], labels: [0] }, h, w)
  if (E.isLeft(back)) return fail(`undo fails for ${showBox(found)} on the ${vh}x${vw} view: ${back.left.message}`)
  const [got] = back.right.boxes
  if (got === undefined) return fail(`the box ${showBox(found)} around the rectangle on the ${vh}x${vw} view does not come back`)
  if (!ordered(got)) return fail(`${showBox(found)} comes back unordered: ${showBox(got)}`)
  const errors = got.map((v, k) => Math.abs(v - (want[k] ?? Number.NaN)))
  const bad = errors.findIndex((e, k) => !(e <= (k % 2 === 0 ? ax : ay)))
  return bad < 0
    ? { holds: true, applied: true, error: Math.max(...errors) }
    : fail(`rectangle ${showBox(box)} of ${h}x${w} is seen at ${showBox(found)} on the ${vh}x${vw} view and comes back as ${showBox(got)}, not ${showBox(want)}: ${['x1', 'y1', 'x2', 'y2'][bad]} is off by ${errors[bad]} > ${bad % 2 === 0 ? ax : ay}`)
}

/**
 * Labels law: `deaugmentLabel` returns the label unchanged (same shape, same values), whatever the
 * view does to the image.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws, runnableViews, tensor } from 'tta-lens'
 * const label = tensor([1, 3], [0.1, 0.7, 0.2])
 * if (E.isRight(label)) for (const v of runnableViews(aliases.d4())) assert.ok(laws.labelUntouched(v, label.right).holds)
 * @category laws
 */
export const labelUntouched = (view: { readonly deaugmentLabel: <L extends Shape>(label: Tensor<L>) => Tensor<L> }, label: Tensor<Shape>): LawResult => {
  const before: Data = { shape: [...label.shape], data: Float32Array.from(label.data) }
  const out = view.deaugmentLabel(label)
  const d = firstDifference({ shape: out.shape, data: out.data }, before)
  return d === undefined && firstDifference(label, before) === undefined ? ok : fail(`deaugmentLabel changed the label, ${d ?? 'in place'}`)
}

/**
 * Simplification law: the view's simplified chain (flips and turns collapsed to one D4 element,
 * then fused into one gather) gives exactly what running the factors' raw steps one by one gives.
 * Exact for chains without Add/Multiply (fusing those reorders float32 roundings).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { dihedral4, laws, tensor, type Step } from 'tta-lens'
 * const x = tensor([1, 1, 2, 3], [0, 1, 2, 3, 4, 5])
 * const flip: Step = { op: 'd4', element: dihedral4.d4(0, true) }
 * if (E.isRight(x)) assert.ok(laws.simplified([], [flip, flip], x.right).holds)
 * @category laws
 */
export const simplified = (steps: readonly Step[], raw: readonly Step[], x: Data): LawResult => {
  const fused = augmentImageData(viewOfSteps(steps), x.shape, x.data)
  const oneByOne = raw.reduce<E.Either<string, Data>>(
    (acc, step) => E.flatMap(acc, (t) => E.mapLeft((e: { readonly message: string }) => e.message)(augmentImageData(viewOfSteps([step]), t.shape, t.data))),
    E.right(x))
  if (E.isLeft(fused) && E.isLeft(oneByOne)) return vacuous
  if (E.isLeft(fused)) return fail(`the simplified chain fails on ${show(x.shape)} (${fused.left.message}) but the raw steps succeed`)
  if (E.isLeft(oneByOne)) return fail(`the raw steps fail on ${show(x.shape)} (${oneByOne.left}) but the simplified chain succeeds`)
  const d = firstDifference(fused.right, oneByOne.right)
  return d === undefined ? ok : fail(`the simplified chain and the raw steps disagree on a ${show(x.shape)} input, ${d}`)
}

// -------------------------------------------------------------------------------------------------
// the group D4
// -------------------------------------------------------------------------------------------------

const name = (g: D4Element): string => `{turns: ${g.turns}, flip: ${g.flip}}`
const check = (holds: boolean, reason: () => string): LawResult => (holds ? ok : fail(reason()))

/**
 * `after(id, g) = g = after(g, id)`.
 * @example
 * import { dihedral4, laws } from 'tta-lens'
 * assert.ok(laws.groupIdentity(dihedral4.d4(3, true)).holds)
 * @category laws
 */
export const groupIdentity = (g: D4Element): LawResult =>
  check(equals(after(d4Identity, g), g) && equals(after(g, d4Identity), g), () => `the identity does not act as one on ${name(g)}`)

/**
 * `after(a, after(b, c)) = after(after(a, b), c)`.
 * @example
 * import { dihedral4, laws } from 'tta-lens'
 * assert.ok(laws.groupAssociativity(dihedral4.d4(1, true), dihedral4.d4(2, false), dihedral4.d4(3, true)).holds)
 * @category laws
 */
export const groupAssociativity = (a: D4Element, b: D4Element, c: D4Element): LawResult => {
  const left = after(a, after(b, c))
  const right = after(after(a, b), c)
  return check(equals(left, right), () => `a·(b·c) = ${name(left)} but (a·b)·c = ${name(right)} for a = ${name(a)}, b = ${name(b)}, c = ${name(c)}`)
}

/**
 * `after(g, inverse(g)) = id = after(inverse(g), g)`.
 * @example
 * import { dihedral4, laws } from 'tta-lens'
 * assert.ok(laws.groupInverse(dihedral4.d4(1, false)).holds)
 * @category laws
 */
export const groupInverse = (g: D4Element): LawResult =>
  check(equals(after(g, inverse(g)), d4Identity) && equals(after(inverse(g), g), d4Identity), () => `${name(inverse(g))} is not the inverse of ${name(g)}`)

/**
 * Closure: `after(a, b)` is one of the 8 elements, and the Cayley table agrees with `after`.
 * @example
 * import { dihedral4, laws } from 'tta-lens'
 * assert.ok(laws.groupClosure(dihedral4.d4(1, false), dihedral4.d4(0, true)).holds)
 * @category laws
 */
export const groupClosure = (a: D4Element, b: D4Element): LawResult => {
  const ab = after(a, b)
  const inGroup = d4Elements.some((e) => equals(e, ab))
  return check(inGroup && d4Table[d4Index(a)]?.[d4Index(b)] === d4Index(ab), () =>
    inGroup ? `the Cayley table disagrees with after(${name(a)}, ${name(b)}) = ${name(ab)}` : `after(${name(a)}, ${name(b)}) = ${name(ab)} is not an element of D4`)
}

const sameMap = (a: AffineIndexMap, b: AffineIndexMap): boolean =>
  a.outHeight === b.outHeight && a.outWidth === b.outWidth && a.ii === b.ii && a.ij === b.ij && a.i0 === b.i0 && a.ji === b.ji && a.jj === b.jj && a.j0 === b.j0

/**
 * `after` agrees with the index maps: the gather map of `after(second, first)` on an h×w plane
 * equals `thenMap` of `first`'s map and `second`'s map (on `first`'s output size).
 * @example
 * import { dihedral4, laws } from 'tta-lens'
 * assert.ok(laws.afterMatchesIndexMaps(dihedral4.d4(1, false), dihedral4.d4(0, true), 2, 5).holds)
 * @category laws
 */
export const afterMatchesIndexMaps = (second: D4Element, first: D4Element, height: number, width: number): LawResult => {
  const [fh, fw] = d4OutSize(first, height, width)
  const composed = thenMap(d4IndexMap(first, height, width), d4IndexMap(second, fh, fw))
  const direct = d4IndexMap(after(second, first), height, width)
  return check(sameMap(direct, composed), () =>
    `on ${height}x${width}, the map of after(${name(second)}, ${name(first)}) is ${JSON.stringify(direct)} but composing the two maps gives ${JSON.stringify(composed)}`)
}

/**
 * `after` agrees with the point maps: moving a point by `after(second, first)` equals moving it by
 * `first`, then by `second` (exact on binary-fraction points).
 * @example
 * import { dihedral4, laws } from 'tta-lens'
 * assert.ok(laws.afterMatchesPointMaps(dihedral4.d4(1, false), dihedral4.d4(0, true), [0.25, 0.5]).holds)
 * @category laws
 */
export const afterMatchesPointMaps = (second: D4Element, first: D4Element, p: readonly [number, number]): LawResult => {
  const direct = d4MovePoint(after(second, first), p[0], p[1])
  const [fx, fy] = d4MovePoint(first, p[0], p[1])
  const composed = d4MovePoint(second, fx, fy)
  return check(closePoint(direct, composed, 0), () =>
    `${showPoint(p)} moves to ${showPoint(direct)} by after(${name(second)}, ${name(first)}) but to ${showPoint(composed)} by the two in turn`)
}

// -------------------------------------------------------------------------------------------------
// merges
// -------------------------------------------------------------------------------------------------

/** Modes whose results go through log/exp or square roots: compared with a relative tolerance. */
const inexact = (mode: MergeMode): boolean => mode === 'gmean' || mode === 'tsharpen'
/**
 * Relative tolerance of `gmean` and `tsharpen` (float32 output of float64 log/exp/sqrt sums).
 * @example
 * import { laws } from 'tta-lens'
 * assert.ok(laws.mergeTolerance < 1e-5)
 * @category utils
 */
export const mergeTolerance = 1e-6

const mergeAll = (mode: MergeMode, shape: readonly number[], views: readonly Float32Array[]): E.Either<string, Float32Array> => {
  const size = shape.reduce((a, d) => a * d, 1)
  const acc = accumulator(mode, size, voteLayout(shape))
  for (const v of views) {
    const added = acc.add(v)
    if (E.isLeft(added)) return E.left(added.left.message)
  }
  return E.mapLeft((e: { readonly message: string }) => e.message)(acc.result())
}

const closeRelative = (got: Float32Array, want: Float32Array, shape: readonly number[], relative: number): string | undefined => {
  for (let k = 0; k < want.length; k++) {
    const g = got[k] ?? Number.NaN
    const w = want[k] ?? Number.NaN
    if (!(g === w || Math.abs(g - w) <= relative * Math.max(Math.abs(w), 2 ** -20))) return `at ${multiIndex(shape, k)}: got ${g}, expected ${w}`
  }
  return got.length === want.length ? undefined : `${got.length} values, expected ${want.length}`
}

/**
 * What merging n copies of x must give: x for mean/gmean/max/min, n·x for sum, √x for tsharpen
 * (ttach's definition: the mean of square roots), one-hot(argmax x) along the class axis for vote
 * (the first maximum wins).
 * @example
 * import { laws } from 'tta-lens'
 * assert.deepStrictEqual(Array.from(laws.expectedMergeOfCopies('vote', [1, 3], Float32Array.of(0.1, 0.7, 0.2), 4)), [0, 1, 0])
 * @category utils
 */
export const expectedMergeOfCopies = (mode: MergeMode, shape: readonly number[], x: Float32Array, n: number): Float32Array => {
  switch (mode) {
    case 'mean':
    case 'gmean':
    case 'max':
    case 'min':
      return Float32Array.from(x)
    case 'sum':
      return x.map((v) => v * n)
    case 'tsharpen':
      return x.map(Math.sqrt)
    case 'vote': {
      const { outer, classes, inner } = voteLayout(shape)
      const out = new Float32Array(x.length)
      for (let o = 0; o < outer; o++) {
        for (let p = 0; p < inner; p++) {
          let best = 0
          for (let c = 1; c < classes; c++) if ((x[(o * classes + c) * inner + p] ?? 0) > (x[(o * classes + best) * inner + p] ?? 0)) best = c
          out[(o * classes + best) * inner + p] = 1
        }
      }
      return out
    }
  }
}

/**
 * Merging n identical views: x for mean/gmean/max/min, one-hot(argmax) for vote, n·x for sum,
 * √x for tsharpen. Exact except gmean and tsharpen ({@link mergeTolerance}, relative).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws, mergeModes, tensor } from 'tta-lens'
 * const x = tensor([2, 2], [0.25, 1, 4, 0])
 * if (E.isRight(x)) for (const mode of mergeModes) assert.ok(laws.mergeOfCopies(mode, x.right, 3).holds)
 * @category laws
 */
export const mergeOfCopies = (mode: MergeMode, x: Data, n: number): LawResult => {
  const merged = mergeAll(mode, x.shape, Array.from({ length: n }, () => x.data))
  if (E.isLeft(merged)) return fail(`merging ${n} copies with '${mode}' fails: ${merged.left}`)
  const want = expectedMergeOfCopies(mode, x.shape, x.data, n)
  const d = inexact(mode) ? closeRelative(merged.right, want, x.shape, mergeTolerance) : firstDifference({ shape: x.shape, data: merged.right }, { shape: x.shape, data: want })
  return d === undefined ? ok : fail(`'${mode}' of ${n} copies of a ${show(x.shape)} tensor, ${d}`)
}

/**
 * Merging is invariant to the order of the views: `order` (a permutation of the view indices)
 * gives the same result (exactly on binary-fraction values; gmean/tsharpen within {@link mergeTolerance}).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { laws, tensor } from 'tta-lens'
 * const a = tensor([3], [1, 2, 3]), b = tensor([3], [3, 2, 1])
 * if (E.isRight(a) && E.isRight(b)) assert.ok(laws.mergeOrder('vote', [a.right, b.right], [1, 0]).holds)
 * @category laws
 */
export const mergeOrder = (mode: MergeMode, views: readonly Data[], order: readonly number[]): LawResult => {
  const [first] = views
  if (first === undefined) return vacuous
  const sorted = [...order].sort((a, b) => a - b)
  if (sorted.length !== views.length || sorted.some((v, i) => v !== i)) return fail(`order ${show(order)} is not a permutation of the ${views.length} views`)
  const straight = mergeAll(mode, first.shape, views.map((v) => v.data))
  const shuffled = mergeAll(mode, first.shape, order.map((k) => views[k]?.data ?? new Float32Array(0)))
  if (E.isLeft(straight) || E.isLeft(shuffled)) {
    return E.isLeft(straight) && E.isLeft(shuffled) ? vacuous : fail(`'${mode}' fails in one order but not in the other`)
  }
  const d = inexact(mode)
    ? closeRelative(shuffled.right, straight.right, first.shape, mergeTolerance)
    : firstDifference({ shape: first.shape, data: shuffled.right }, { shape: first.shape, data: straight.right })
  return d === undefined ? ok : fail(`'${mode}' of ${views.length} views depends on their order (${show(order)}), ${d}`)
}
