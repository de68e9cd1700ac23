/**
 * Candidate views as data: a small vocabulary of single-view operations (a flip, a turn, a shift,
 * a zoom, a crop, a brightness or contrast change) that a policy file stores and a search draws
 * from, with a text form for the command line. A view is a list of operations applied in order;
 * it becomes the library's own geometry (`Step`s) for a given input size, so a policy runs through
 * the same plans, kernels and wrappers as any product.
 *
 * `zoom` keeps the frame, as a fixed-size classifier needs: content is rescaled about the centre
 * (bilinear), a zoom-in is cropped back to the frame, a zoom-out is padded with its own edge pixels.
 *
 * @since 0.4.0
 */
import { showValue } from '../guard/decode.js'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, type ParamError } from '../errors.js'
import { d4 } from '../algebra/d4.js'
import { product, simplify, type AnyFactor, type Product } from '../algebra/product.js'
import { joinKind, makeFactor, type Kind, type Target } from '../transform/factor.js'
import type { CropAnchor, CustomGeometry, Interpolation, Step } from '../transform/step.js'

const InterpolationCodec = t.keyof({ nearest: null, 'nearest-exact': null, bilinear: null, bicubic: null, area: null })
const AnchorCodec = t.keyof({ crop_lt: null, crop_lb: null, crop_rb: null, crop_rt: null, center_crop: null })

/** One operation of a view, as stored in a policy file. @category model */
export const ViewOpCodec = t.union([
  t.type({ op: t.keyof({ hflip: null, vflip: null }) }),
  t.type({ op: t.literal('rotate90'), angle: t.number }),
  t.intersection([t.type({ op: t.literal('translate'), dy: t.number, dx: t.number }), t.partial({ fill: t.keyof({ zeros: null, edge: null }) })]),
  t.intersection([t.type({ op: t.literal('zoom'), factor: t.number }), t.partial({ interpolation: InterpolationCodec })]),
  t.intersection([t.type({ op: t.literal('scale'), factor: t.number }), t.partial({ interpolation: InterpolationCodec })]),
  t.intersection([t.type({ op: t.literal('crop'), anchor: AnchorCodec, height: t.number, width: t.number }), t.partial({ resizeBack: t.boolean, interpolation: InterpolationCodec })]),
  t.type({ op: t.literal('add'), value: t.number }),
  t.type({ op: t.literal('multiply'), factor: t.number }),
])
/** One operation of a view (see {@link ViewOpCodec}). @category model */
export type ViewOp = t.TypeOf<typeof ViewOpCodec>
/** A view: its operations, applied in order (none: the identity). @category model */
export type ViewOps = readonly ViewOp[]

const signed = (v: number): string => (v > 0 ? `+${v}` : String(v))

/**
 * A short human name for a view: `identity`, `hflip`, `shift(+1,0)`, `zoom 0.9`, `hflip · shift(0,-2)`.
 * @example
 * import { viewName } from 'tta-lens'
 * assert.strictEqual(viewName([]), 'identity')
 * assert.strictEqual(viewName([{ op: 'hflip' }, { op: 'translate', dy: 0, dx: -2 }]), 'hflip · shift(0,-2)')
 * @category utils
 */
export const viewName = (ops: ViewOps): string =>
  ops.length === 0 ? 'identity' : ops.map((o) => {
    switch (o.op) {
      case 'hflip': case 'vflip': return o.op
      case 'rotate90': return `rot${((o.angle % 360) + 360) % 360}`
      case 'translate': return `shift(${signed(o.dy)},${signed(o.dx)})${o.fill === 'edge' ? ' edge' : ''}`
      case 'zoom': return `zoom ${o.factor}`
      case 'scale': return `scale ${o.factor}`
      case 'crop': return `crop ${o.anchor.replace('crop_', '').replace('center_crop', 'centre')} ${o.height}x${o.width}${o.resizeBack === false ? '' : ' resized'}`
      case 'add': return `add ${signed(o.value)}`
      case 'multiply': return `×${o.factor}`
    }
  }).join(' · ')

/** A canonical text key of a view (same operations, same key), for caches and de-duplication. @category utils */
export const viewKey = (ops: ViewOps): string => JSON.stringify(ops.map((o) => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)))))

type Size = readonly [number, number]

/** Content scaled about the centre by `k`, the frame kept (see the module description). */
const zoomSteps = (k: number, mode: Interpolation, h: number, w: number): E.Either<ParamError, readonly Step[]> => {
  if (!(Number.isFinite(k) && k > 0)) return E.left(paramError(`zoom needs a factor > 0, got ${k}`))
  const zh = Math.max(1, Math.round(h * k))
  const zw = Math.max(1, Math.round(w * k))
  if (zh === h && zw === w) return E.right([])
  const resize: Step = { op: 'resample', target: { by: 'size', height: zh, width: zw }, mode, alignCorners: false }
  if (zh >= h && zw >= w) return E.right([resize, { op: 'crop', anchor: 'center_crop', height: h, width: w }])
  if (zh > h || zw > w) return E.left(paramError(`zoom ${k} of a ${h}x${w} image grows one side and shrinks the other`))
  const top = Math.floor((h - zh) / 2)
  const left = Math.floor((w - zw) / 2)
  const clamp = (v: number, n: number): number => Math.min(n - 1, Math.max(0, v))
  const pad: CustomGeometry = {
    name: `pad ${zh}x${zw} to ${h}x${w}`,
    outSize: () => [h, w],
    forward: (i, j, ih, iw) => [clamp(i - top, ih), clamp(j - left, iw)],
    backward: (i, j) => [i + top, j + left],
  }
  return E.right([resize, { op: 'custom', geometry: pad }])
}

const opSteps = (o: ViewOp, size: Size): E.Either<ParamError, { steps: readonly Step[]; kind: Kind; undoes: readonly Target[]; size: Size }> => {
  const [h, w] = size
  const all: readonly Target[] = ['mask', 'label', 'keypoints']
  switch (o.op) {
    case 'hflip': return E.right({ steps: [{ op: 'd4', element: d4(0, true) }], kind: 'iso', undoes: all, size })
    case 'vflip': return E.right({ steps: [{ op: 'd4', element: d4(2, true) }], kind: 'iso', undoes: all, size })
    case 'rotate90': {
      if (!Number.isInteger(o.angle) || o.angle % 90 !== 0) return E.left(paramError(`rotate90 turns by multiples of 90°, and ${o.angle}° is not one`))
      const turns = ((o.angle / 90) % 4 + 4) % 4
      return E.right({ steps: turns === 0 ? [] : [{ op: 'd4', element: d4(turns, false) }], kind: 'iso', undoes: all, size: turns % 2 === 1 ? [w, h] : size })
    }
    case 'translate':
      if (!Number.isSafeInteger(o.dy) || !Number.isSafeInteger(o.dx)) return E.left(paramError(`a shift is whole pixels, got (${o.dy}, ${o.dx})`))
      return E.right({ steps: o.dy === 0 && o.dx === 0 ? [] : [{ op: 'translate', dy: o.dy, dx: o.dx, fill: o.fill ?? 'zeros' }], kind: 'lossy', undoes: all, size })
    case 'zoom':
      return E.Functor.map(zoomSteps(o.factor, o.interpolation ?? 'bilinear', h, w), (steps) => ({ steps, kind: 'lossy', undoes: ['mask', 'label'], size }))
    case 'scale': {
      if (!(Number.isFinite(o.factor) && o.factor > 0)) return E.left(paramError(`scale needs a factor > 0, got ${o.factor}`))
      const out: Size = [Math.trunc(h * o.factor), Math.trunc(w * o.factor)]
      if (out[0] < 1 || out[1] < 1) return E.left(paramError(`scale ${o.factor} of a ${h}x${w} image leaves nothing`))
      return E.right({ steps: o.factor === 1 ? [] : [{ op: 'resample', target: { by: 'factor', factor: o.factor }, mode: o.interpolation ?? 'bilinear', alignCorners: false }], kind: 'lossy', undoes: all, size: out })
    }
    case 'crop': {
      if (!Number.isInteger(o.height) || !Number.isInteger(o.width) || o.height < 1 || o.width < 1 || o.height > h || o.width > w) {
        return E.left(paramError(`a crop of ${o.height}x${o.width} does not fit a ${h}x${w} image`))
      }
      const crop: Step = { op: 'crop', anchor: o.anchor satisfies CropAnchor, height: o.height, width: o.width }
      const back: readonly Step[] = o.resizeBack === false ? [] : [{ op: 'resample', target: { by: 'size', height: h, width: w }, mode: o.interpolation ?? 'bilinear', alignCorners: false }]
      return E.right({ steps: [crop, ...back], kind: 'lossy', undoes: ['label'], size: o.resizeBack === false ? [o.height, o.width] : size })
    }
    case 'add':
      if (!Number.isFinite(o.value)) return E.left(paramError(`add needs a finite value, got ${o.value}`))
      return E.right({ steps: o.value === 0 ? [] : [{ op: 'pointwise', scale: 1, shift: o.value }], kind: 'invariant', undoes: all, size })
    case 'multiply':
      if (!Number.isFinite(o.factor)) return E.left(paramError(`multiply needs a finite factor, got ${o.factor}`))
      return E.right({ steps: o.factor === 1 ? [] : [{ op: 'pointwise', scale: o.factor, shift: 0 }], kind: 'invariant', undoes: all, size })
  }
}

/** One view's geometry for an input of `height`×`width`. @internal */
export const viewSteps = (ops: ViewOps, height: number, width: number): E.Either<ParamError, { steps: readonly Step[]; kind: Kind; undoes: readonly Target[] }> => {
  let size: Size = [height, width]
  const steps: Step[] = []
  let kind: Kind = 'invariant'
  let undoes: readonly Target[] = ['mask', 'label', 'keypoints']
  for (const o of ops) {
    const made = opSteps(o, size)
    if (E.isLeft(made)) return made
    steps.push(...made.right.steps)
    kind = joinKind(kind, made.right.kind)
    undoes = undoes.filter((u) => made.right.undoes.includes(u))
    size = made.right.size
  }
  return E.right({ steps, kind: steps.length === 0 ? 'iso' : kind, undoes })
}

/**
 * The product whose views are exactly `list`, in order, for inputs of `height`×`width`: one factor
 * whose options are the views. What a policy hands to the wrappers, plans and `explain`.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { productOfViews, views } from 'tta-lens'
 * const p = productOfViews([[], [{ op: 'hflip' }], [{ op: 'zoom', factor: 0.9 }]], 28, 28)
 * assert.ok(E.isRight(p))
 * assert.deepStrictEqual(views(p.right).map((v) => v.name), ['identity', 'View(hflip)', 'View(zoom 0.9)'])
 * assert.ok(E.isLeft(productOfViews([[{ op: 'translate', dy: 0.5, dx: 0 }]], 28, 28)))
 * @category constructors
 */
export const productOfViews = (list: readonly ViewOps[], height: number, width: number): E.Either<ParamError, Product<readonly AnyFactor[]>> => {
  if (list.length === 0) return E.left(paramError('a policy needs at least one view'))
  const options: { param: string; label: string; steps: readonly Step[]; kind: Kind }[] = []
  let undoes: readonly Target[] = ['mask', 'label', 'keypoints']
  for (const ops of list) {
    const made = viewSteps(ops, height, width)
    if (E.isLeft(made)) return E.left(paramError(`view '${viewName(ops)}': ${made.left.message}`))
    options.push({ param: viewKey(ops), label: viewName(ops), steps: made.right.steps, kind: made.right.kind })
    undoes = undoes.filter((u) => made.right.undoes.includes(u))
  }
  return E.right(product(makeFactor('View', 'view', options, undoes)))
}

const numbers = (text: string, what: string): E.Either<ParamError, readonly number[]> => {
  const values = text.split(',').map((v) => Number(v.trim()))
  return text.trim() === '' || values.some((v) => !Number.isFinite(v)) ? E.left(paramError(`${what} needs comma-separated numbers, got '${text}'`)) : E.right(values)
}

/** The options of one pool factor: each a list of operations (the identity is added by the product). */
const poolFactor = (spec: string, height: number, width: number): E.Either<ParamError, readonly ViewOps[]> => {
  const [name = '', argument = ''] = spec.trim().split(':', 2)
  const px = (): E.Either<ParamError, number> => {
    const p = Number(argument)
    return Number.isSafeInteger(p) && p > 0 ? E.right(p) : E.left(paramError(`${name} needs a whole number of pixels, got '${argument}'`))
  }
  const shifts = (pairs: (p: number) => readonly (readonly [number, number])[]) => E.Functor.map(px(), (p) => pairs(p).map(([dy, dx]): ViewOps => [{ op: 'translate', dy, dx }]))
  switch (name.toLowerCase()) {
    case 'identity': case 'none': return E.right([])
    case 'hflip': return E.right([[{ op: 'hflip' }]])
    case 'vflip': return E.right([[{ op: 'vflip' }]])
    case 'rot90': return E.right([[{ op: 'rotate90', angle: 90 }]])
    case 'rot180': return E.right([[{ op: 'rotate90', angle: 180 }]])
    case 'rot270': return E.right([[{ op: 'rotate90', angle: 270 }]])
    case 'd4': return E.right([
      [{ op: 'rotate90', angle: 90 }], [{ op: 'rotate90', angle: 180 }], [{ op: 'rotate90', angle: 270 }],
      [{ op: 'hflip' }], [{ op: 'hflip' }, { op: 'rotate90', angle: 90 }], [{ op: 'vflip' }], [{ op: 'hflip' }, { op: 'rotate90', angle: 270 }],
    ])
    case 'shift': return shifts((p) => [[0, p], [0, -p], [p, 0], [-p, 0]])
    case 'hshift': return shifts((p) => [[0, p], [0, -p]])
    case 'vshift': return shifts((p) => [[p, 0], [-p, 0]])
    case 'diag': return shifts((p) => [[p, p], [p, -p], [-p, p], [-p, -p]])
    case 'zoom': return E.Functor.map(numbers(argument, 'zoom'), (ks) => ks.map((factor): ViewOps => [{ op: 'zoom', factor }]))
    case 'scale': return E.Functor.map(numbers(argument, 'scale'), (ks) => ks.map((factor): ViewOps => [{ op: 'scale', factor }]))
    case 'crop': return E.flatMap(px(), (s) => s >= height || s >= width
      ? E.left(paramError(`crop:${s} needs a crop smaller than the ${height}x${width} image`))
      : E.right((['crop_lt', 'crop_rt', 'crop_lb', 'crop_rb', 'center_crop'] as const).map((anchor): ViewOps => [{ op: 'crop', anchor, height: s, width: s }])))
    case 'brightness': case 'add': return E.Functor.map(numbers(argument, name), (vs) => vs.map((value): ViewOps => [{ op: 'add', value }]))
    case 'contrast': case 'multiply': return E.Functor.map(numbers(argument, name), (vs) => vs.map((factor): ViewOps => [{ op: 'multiply', factor }]))
    default:
      return E.left(paramError(`unknown candidate '${name}'; use identity, hflip, vflip, rot90, rot180, rot270, d4, shift:PX, hshift:PX, vshift:PX, diag:PX, zoom:K,K, scale:K,K, crop:PX, brightness:V,V, contrast:K,K — joined by * for products, separated by ;`))
  }
}

/**
 * A candidate pool from text: items separated by `;`, each a factor or a product of factors joined
 * by `*` (`hflip*shift:1` is every combination of a mirror and a 1-px shift). The identity comes
 * first, every view once (duplicates by geometry dropped). For inputs of `height`×`width` (crops
 * need them).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { parsePool, viewName } from 'tta-lens'
 * const pool = parsePool('hflip; shift:1; zoom:0.9,1.1; hflip*hshift:1', 28, 28)
 * assert.ok(E.isRight(pool))
 * assert.strictEqual(pool.right.length, 1 + 1 + 4 + 2 + 2)   // identity, hflip, 4 shifts, 2 zooms, 2 mirrored shifts
 * assert.strictEqual(viewName(pool.right[pool.right.length - 1] ?? []), 'hflip · shift(0,-1)')
 * assert.ok(E.isLeft(parsePool('shear:0.1', 28, 28)))
 * @category constructors
 */
export const parsePool = (text: string, height: number, width: number): E.Either<ParamError, readonly ViewOps[]> => {
  const given: unknown = text
  if (typeof given !== 'string') return E.left(paramError(`a view pool is a string such as '${standardPool}', got ${showValue(given)}`))
  // The image size comes from callers without types too: a view's geometry is only as finite as it.
  for (const [field, value] of [['height', height], ['width', width]] as const) {
    const size: unknown = value
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) return E.left(paramError(`a view pool's image ${field} is a positive whole number of pixels, got ${showValue(size)}`))
  }
  const pool: ViewOps[] = [[]]
  const seen = new Set<string>([viewKey([])])
  for (const item of text.split(';').map((s) => s.trim()).filter((s) => s !== '')) {
    let combos: ViewOps[] = [[]]
    for (const factor of item.split('*')) {
      const options = poolFactor(factor, height, width)
      if (E.isLeft(options)) return options
      combos = combos.flatMap((c) => [c, ...options.right.map((o) => [...c, ...o])])
    }
    for (const ops of combos) {
      // Two lists of operations with the same geometry are one view (hflip·hflip is the identity).
      const made = viewSteps(ops, height, width)
      if (E.isLeft(made)) return E.left(paramError(`candidate '${viewName(ops)}': ${made.left.message}`))
      const key = JSON.stringify(simplify(made.right.steps))
      if (seen.has(key) || ops.length === 0) continue
      seen.add(key)
      pool.push(ops)
    }
  }
  return E.right(pool)
}

/**
 * The pool the repository's Fashion-MNIST policies were searched over (20 views for a 28×28
 * classifier): identity, a mirror, ±1 and ±2 px shifts, zooms 0.9–1.1, brightness ±0.05,
 * contrast ×0.9/×1.1, and the mirror with ±1 px horizontal shifts.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { parsePool, standardPool } from 'tta-lens'
 * const pool = parsePool(standardPool, 28, 28)
 * assert.ok(E.isRight(pool) && pool.right.length === 20)
 * @category constructors
 */
export const standardPool = 'hflip; shift:1; shift:2; zoom:0.9,0.95,1.05,1.1; brightness:-0.05,0.05; contrast:0.9,1.1; hflip*hshift:1'
