/**
 * Transform products from outside the program — a CLI flag or a JSON file — decoded with io-ts
 * and built with the same validating constructors as in code.
 *
 * A config is an alias name (`d4`, `flip`, `hflip`, `vflip`, `none`), an alias with arguments
 * (`multiscale:0.75,1.25`, `fivecrop:24x24`, `tencrop:24x24`, `shifts:1`, `rotate90:90,180`),
 * several joined with `+` (their product: `hflip+shifts:1`), or JSON:
 * `{ "transforms": [{ "name": "hflip" }, { "name": "scale", "scales": [0.75], "interpolation": "bilinear" }] }`.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, type LimitError, type ParamError } from '../errors.js'
import { checkProduct, identity, product, type AnyFactor, type Product } from '../algebra/product.js'
import { decodeWith, showValue, strictObject } from '../guard/decode.js'
import * as T from '../transform/builtins.js'
import { makeFactor } from '../transform/factor.js'
import { interpolations, type Interpolation } from '../transform/step.js'

const Pair = t.tuple([t.number, t.number])
const InterpolationCodec = t.keyof({ nearest: null, 'nearest-exact': null, bilinear: null, bicubic: null, area: null })
const resampleOptions = { interpolation: InterpolationCodec, alignCorners: t.boolean }
/** One codec per transform name; each refuses keys it does not know. */
const factorCodecs = {
  hflip: strictObject('hflip', { name: t.literal('hflip') }, {}),
  vflip: strictObject('vflip', { name: t.literal('vflip') }, {}),
  rotate90: strictObject('rotate90', { name: t.literal('rotate90'), angles: t.array(t.number) }, {}),
  scale: strictObject('scale', { name: t.literal('scale'), scales: t.array(t.number) }, resampleOptions),
  resize: strictObject('resize', { name: t.literal('resize'), sizes: t.array(Pair) }, { originalSize: Pair, ...resampleOptions }),
  add: strictObject('add', { name: t.literal('add'), values: t.array(t.number) }, {}),
  multiply: strictObject('multiply', { name: t.literal('multiply'), factors: t.array(t.number) }, {}),
  fiveCrops: strictObject('fiveCrops', { name: t.literal('fiveCrops'), height: t.number, width: t.number }, {}),
  translate: strictObject('translate', { name: t.literal('translate'), shifts: t.array(Pair) }, { fill: t.keyof({ zeros: null, edge: null }) }),
}
type FactorConfig = { [K in keyof typeof factorCodecs]: t.TypeOf<(typeof factorCodecs)[K]> }[keyof typeof factorCodecs]
const factorNames = Object.keys(factorCodecs)
const isFactorName = (name: unknown): name is keyof typeof factorCodecs => factorNames.some((n) => n === name)

/**
 * One transform of a config, decoded by its `name`: the codec for that name alone reports the
 * failure, so the message names the field (`transforms[0].scales`), not every alternative of a union.
 */
const FactorCodec = new t.Type<FactorConfig, FactorConfig, unknown>(
  'Transform',
  (u): u is FactorConfig => Object.values(factorCodecs).some((codec) => codec.is(u)),
  (u, c) => {
    if (typeof u !== 'object' || u === null || Array.isArray(u)) return t.failure(u, c, `expected a transform object such as { "name": "hflip" }, got ${showValue(u)}`)
    const name: unknown = Object.entries(u).find(([k]) => k === 'name')?.[1]
    if (!isFactorName(name)) {
      return t.failure(u, [...c, { key: 'name', type: t.string, actual: name }], `unknown transform ${showValue(name)}; use one of ${factorNames.join(', ')}`)
    }
    return factorCodecs[name].validate(u, c)
  },
  t.identity,
)
/**
 * The JSON form of a transform product, as an io-ts codec: decode a config file with it to get a
 * typed value (or the reasons it is malformed) before building the product. Unknown keys are
 * refused at every level.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { TransformConfig } from 'tta-lens'
 * const config = TransformConfig.decode({ transforms: [{ name: 'scale', scales: [0.75], interpolation: 'bilinear' }] })
 * assert.ok(E.isRight(config) && config.right.transforms[0]?.name === 'scale')
 * assert.ok(E.isLeft(TransformConfig.decode({ transforms: [{ name: 'shear' }] })))
 * assert.ok(E.isLeft(TransformConfig.decode({ transforms: [{ name: 'hflip', p: 0.5 }] })))
 * @category model
 */
export const TransformConfig = strictObject('TransformConfig', { transforms: t.array(FactorCodec) }, {})
/** A decoded transform config: the value {@link TransformConfig} accepts. @category model */
export type TransformConfig = t.TypeOf<typeof TransformConfig>

const factorFrom = (f: FactorConfig): E.Either<ParamError, AnyFactor> => {
  switch (f.name) {
    case 'hflip': return E.right(T.hflip())
    case 'vflip': return E.right(T.vflip())
    case 'rotate90': return T.rotate90(f.angles)
    case 'scale': return T.scale(f.scales, { ...(f.interpolation === undefined ? {} : { interpolation: f.interpolation }), ...(f.alignCorners === undefined ? {} : { alignCorners: f.alignCorners }) })
    case 'resize': return T.resize(f.sizes, {
      ...(f.originalSize === undefined ? {} : { originalSize: f.originalSize }),
      ...(f.interpolation === undefined ? {} : { interpolation: f.interpolation }),
      ...(f.alignCorners === undefined ? {} : { alignCorners: f.alignCorners }),
    })
    case 'add': return T.add(f.values)
    case 'multiply': return T.multiply(f.factors)
    case 'fiveCrops': return T.fiveCrops(f.height, f.width)
    case 'translate': return T.translate(f.shifts, f.fill === undefined ? {} : { fill: f.fill })
  }
}

const all = <A>(items: readonly E.Either<ParamError, A>[]): E.Either<ParamError, readonly A[]> => {
  const out: A[] = []
  for (const item of items) {
    if (E.isLeft(item)) return item
    out.push(item.right)
  }
  return E.right(out)
}

/**
 * Decodes a JSON transform config into a product.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { productFromConfig, size } from 'tta-lens'
 * const p = productFromConfig({ transforms: [{ name: 'hflip' }, { name: 'rotate90', angles: [90] }] })
 * assert.ok(E.isRight(p) && size(p.right) === 4)
 * assert.ok(E.isLeft(productFromConfig({ transforms: [{ name: 'rotate90', angles: [45] }] })))
 * @category constructors
 */
export const productFromConfig = (json: unknown): E.Either<ParamError | LimitError, Product<readonly AnyFactor[]>> => {
  const decoded = decodeWith(TransformConfig, json, 'transform config')
  if (E.isLeft(decoded)) return decoded
  return E.flatMap(
    all(decoded.right.transforms.map((f, i) => E.mapLeft((e: ParamError) => paramError(`transform config: transforms[${i}]: ${e.message}`))(factorFrom(f)))),
    (factors) => checkProduct(product(...factors)))
}

const numbers = (text: string, what: string): E.Either<ParamError, readonly number[]> => {
  const values = text.split(',').map((v) => Number(v.trim()))
  return text.trim() === '' || values.some((v) => !Number.isFinite(v))
    ? E.left(paramError(`${what} needs comma-separated numbers, got '${text}'`))
    : E.right(values)
}

const size = (text: string, what: string): E.Either<ParamError, readonly [number, number]> => {
  const match = /^(\d+)x(\d+)$/.exec(text.trim())
  return match === null ? E.left(paramError(`${what} needs HEIGHTxWIDTH, got '${text}'`)) : E.right([Number(match[1]), Number(match[2])])
}

const aliasFactors = (spec: string): E.Either<ParamError, readonly AnyFactor[]> => {
  const [name = '', argument = ''] = spec.split(':', 2)
  const key = name.trim().toLowerCase()
  switch (key) {
    case 'none': case 'identity': return E.right([])
    case 'hflip': return E.right([T.hflip()])
    case 'vflip': return E.right([T.vflip()])
    case 'flip': return E.right([T.hflip(), T.vflip()])
    case 'd4': return E.right([T.hflip(), T.quarterTurns([0, 90, 180, 270])])
    case 'rotate90': return E.flatMap(numbers(argument, 'rotate90'), (a) => E.Functor.map(T.rotate90(a), (f) => [f]))
    case 'multiscale': {
      const [scales = '', mode = 'nearest'] = argument.split('/')
      const interpolation: Interpolation | undefined = interpolations.find((m) => m === mode)
      if (interpolation === undefined) return E.left(paramError(`unknown interpolation '${mode}'; use one of ${interpolations.join(', ')}`))
      return E.flatMap(numbers(scales, 'multiscale'), (k) => E.Functor.map(T.scale(k, { interpolation }), (f) => [f]))
    }
    case 'scale': {
      // Only the scaled views (multiscale adds the identity): 'scale:1.5/bilinear' is one view at 1.5×.
      const [scales = '', mode = 'nearest'] = argument.split('/')
      const interpolation: Interpolation | undefined = interpolations.find((m) => m === mode)
      if (interpolation === undefined) return E.left(paramError(`unknown interpolation '${mode}'; use one of ${interpolations.join(', ')}`))
      return E.flatMap(numbers(scales, 'scale'), (ks) => {
        const bad = ks.find((k) => !(k > 0))
        if (bad !== undefined) return E.left(paramError(`scale factors must be > 0, got ${bad}`))
        return E.right([makeFactor('Scale', 'scale', ks.map((k) => ({
          param: k, label: String(k), kind: k === 1 ? 'iso' as const : 'lossy' as const,
          steps: k === 1 ? [] : [{ op: 'resample' as const, target: { by: 'factor' as const, factor: k }, mode: interpolation, alignCorners: false }],
        })), ['mask', 'label', 'keypoints', 'boxes'] as const)])
      })
    }
    case 'fivecrop': return E.flatMap(size(argument, 'fivecrop'), ([h, w]) => E.Functor.map(T.fiveCrops(h, w), (f) => [f]))
    case 'tencrop': return E.flatMap(size(argument, 'tencrop'), ([h, w]) => E.Functor.map(T.fiveCrops(h, w), (f) => [T.hflip(), f]))
    case 'shifts': return E.flatMap(numbers(argument, 'shifts'), (values) => {
      const [px = 1] = values
      if (values.length !== 1) return E.left(paramError(`shifts takes one whole number of pixels, got '${argument}'`))
      return E.Functor.map(T.translate([[0, px], [0, -px], [px, 0], [-px, 0]]), (f) => [f])
    })
    default:
      return E.left(paramError(`unknown transform alias '${name}'; use none, hflip, vflip, flip, d4, rotate90:A,B, multiscale:K,K[/mode], scale:K[/mode], fivecrop:HxW, tencrop:HxW, shifts:PX, joined with +`))
  }
}

/**
 * Parses a transform policy such as `d4`, `hflip+shifts:1` or `multiscale:0.75,1.25/bilinear`.
 * `multiscale:K,…` adds the identity view to the scaled ones; `scale:K,…` is the scaled views only
 * (`scale:1.5/bilinear` is a single view at 1.5×).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { parsePolicy, size, views } from 'tta-lens'
 * const p = parsePolicy('hflip+shifts:1')
 * assert.ok(E.isRight(p) && size(p.right) === 10)
 * const up = parsePolicy('scale:1.5/bilinear+hflip')
 * assert.ok(E.isRight(up))
 * assert.deepStrictEqual(views(up.right).map((v) => v.name), ['Scale(1.5)', 'Scale(1.5) · HorizontalFlip(true)'])
 * assert.ok(E.isLeft(parsePolicy('d8')))
 * @category constructors
 */
export const parsePolicy = (spec: string): E.Either<ParamError | LimitError, Product<readonly AnyFactor[]>> => {
  const text: unknown = spec
  if (typeof text !== 'string') return E.left(paramError(`a policy is a string such as 'hflip+shifts:1', got ${showValue(text)}`))
  return text.trim() === 'none' ? E.right(identity)
    : E.flatMap(all(text.split('+').map(aliasFactors)), (groups) => checkProduct(product(...groups.flat())))
}
