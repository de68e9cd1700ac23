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
import { paramError, type ParamError } from '../errors.js'
import { identity, product, type AnyFactor, type Product } from '../algebra/product.js'
import * as T from '../transform/builtins.js'
import { interpolations, type Interpolation } from '../transform/step.js'

const Pair = t.tuple([t.number, t.number])
const InterpolationCodec = t.keyof({ nearest: null, 'nearest-exact': null, bilinear: null, bicubic: null, area: null })
const FactorCodec = t.union([
  t.type({ name: t.keyof({ hflip: null, vflip: null }) }),
  t.type({ name: t.literal('rotate90'), angles: t.array(t.number) }),
  t.intersection([t.type({ name: t.literal('scale'), scales: t.array(t.number) }), t.partial({ interpolation: InterpolationCodec, alignCorners: t.boolean })]),
  t.intersection([t.type({ name: t.literal('resize'), sizes: t.array(Pair) }), t.partial({ originalSize: Pair, interpolation: InterpolationCodec, alignCorners: t.boolean })]),
  t.type({ name: t.literal('add'), values: t.array(t.number) }),
  t.type({ name: t.literal('multiply'), factors: t.array(t.number) }),
  t.type({ name: t.literal('fiveCrops'), height: t.number, width: t.number }),
  t.intersection([t.type({ name: t.literal('translate'), shifts: t.array(Pair) }), t.partial({ fill: t.keyof({ zeros: null, edge: null }) })]),
])
/**
 * The JSON form of a transform product, as an io-ts codec: decode a config file with it to get a
 * typed value (or the reasons it is malformed) before building the product.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { TransformConfig } from 'tta-lens'
 * const config = TransformConfig.decode({ transforms: [{ name: 'scale', scales: [0.75], interpolation: 'bilinear' }] })
 * assert.ok(E.isRight(config) && config.right.transforms[0]?.name === 'scale')
 * assert.ok(E.isLeft(TransformConfig.decode({ transforms: [{ name: 'shear' }] })))
 * @category model
 */
export const TransformConfig = t.type({ transforms: t.array(FactorCodec) })
/** A decoded transform config: the value {@link TransformConfig} accepts. @category model */
export type TransformConfig = t.TypeOf<typeof TransformConfig>

const factorFrom = (f: t.TypeOf<typeof FactorCodec>): E.Either<ParamError, AnyFactor> => {
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
export const productFromConfig = (json: unknown): E.Either<ParamError, Product<readonly AnyFactor[]>> => {
  const decoded = TransformConfig.decode(json)
  if (E.isLeft(decoded)) {
    return E.left(paramError('a transform config is { "transforms": [{ "name": "hflip" | "vflip" | "rotate90" | "scale" | "resize" | "add" | "multiply" | "fiveCrops" | "translate", ...parameters }] }'))
  }
  return E.Functor.map(all(decoded.right.transforms.map(factorFrom)), (factors) => product(...factors))
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
    case 'fivecrop': return E.flatMap(size(argument, 'fivecrop'), ([h, w]) => E.Functor.map(T.fiveCrops(h, w), (f) => [f]))
    case 'tencrop': return E.flatMap(size(argument, 'tencrop'), ([h, w]) => E.Functor.map(T.fiveCrops(h, w), (f) => [T.hflip(), f]))
    case 'shifts': return E.flatMap(numbers(argument, 'shifts'), ([px = 1]) =>
      E.Functor.map(T.translate([[0, px], [0, -px], [px, 0], [-px, 0]]), (f) => [f]))
    default:
      return E.left(paramError(`unknown transform alias '${name}'; use none, hflip, vflip, flip, d4, rotate90:A,B, multiscale:K,K[/mode], fivecrop:HxW, tencrop:HxW, shifts:PX, joined with +`))
  }
}

/**
 * Parses a transform policy such as `d4`, `hflip+shifts:1` or `multiscale:0.75,1.25/bilinear`.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { parsePolicy, size } from 'tta-lens'
 * const p = parsePolicy('hflip+shifts:1')
 * assert.ok(E.isRight(p) && size(p.right) === 10)
 * assert.ok(E.isLeft(parsePolicy('d8')))
 * @category constructors
 */
export const parsePolicy = (spec: string): E.Either<ParamError, Product<readonly AnyFactor[]>> =>
  spec.trim() === 'none' ? E.right(identity)
    : E.Functor.map(all(spec.split('+').map(aliasFactors)), (groups) => product(...groups.flat()))
