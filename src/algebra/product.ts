/**
 * Products of factors: the cartesian product of their parameter lists, first factor varying
 * slowest — ttach's `Compose` order. Products form a monoid under {@link sequence} with
 * {@link identity} as the unit. Enumerating a product gives its views, each a simplified chain of
 * steps: runs of flips and turns collapse to one element of D4, runs of Add/Multiply to one affine.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { limitError, paramError, type LimitError, type ParamError } from '../errors.js'
import { limits } from '../guard/limits.js'
import { after, d4Identity, d4Name, isIdentity } from './d4.js'
import { joinKind, type Factor, type Kind, type MapOf, type Target, type UndoOf } from '../transform/factor.js'
import type { ApplyMaps, ShapeMap } from '../transform/shape-map.js'
import type { Step } from '../transform/step.js'
import type { D4Element } from '../transform/d4.js'
import type { Shape } from '../tensor/shape.js'

/** Any factor, whatever its parameters. @category model */
export type AnyFactor = Factor<string, unknown, ShapeMap, Target>

/** A product of factors (ttach's `Compose`): its views are every combination of the factors' parameters. @category model */
export interface Product<Fs extends readonly AnyFactor[]> {
  readonly _tag: 'Product'
  readonly factors: Fs
}

/** One view of a product: which option of each factor, and the simplified geometry. @category model */
export interface ViewSpec {
  /** Position in reference (ttach) order. */
  readonly index: number
  /** The parameter of each factor, in factor order. */
  readonly params: readonly unknown[]
  /** e.g. `HorizontalFlip(true) · Rotate90(90)` */
  readonly name: string
  /** The chain after simplification. */
  readonly steps: readonly Step[]
  /** How exactly a mask comes back through this view. */
  readonly kind: Kind
  /** The single D4 element when every step is a flip or turn (or the view is the identity). */
  readonly d4?: D4Element
}

/** Shape maps of the factors, in order. @category type-level */
export type MapsOf<Fs extends readonly AnyFactor[]> = { readonly [K in keyof Fs]: MapOf<Fs[K]> }
/**
 * Targets that every factor of the product can undo (checked per factor, not over the union): what
 * decides which wrappers accept a product.
 * @example
 * ```ts
 * import type { CommonUndo, transforms } from 'tta-lens'
 * type Fs = readonly [transforms.HorizontalFlip, transforms.FiveCrops<4, 4>]
 * const label: CommonUndo<Fs> = 'label'
 * // @ts-expect-error FiveCrops cannot undo masks, so the product cannot either
 * const mask: CommonUndo<Fs> = 'mask'
 * assert.deepStrictEqual([label, mask], ['label', 'mask'])
 * ```
 * @category type-level
 */
export type CommonUndo<Fs extends readonly AnyFactor[]> = Fs extends readonly [infer F, ...infer R extends readonly AnyFactor[]]
  ? UndoOf<F> & CommonUndo<R>
  : Target
/** The first factor that cannot undo target `T`, by name. @category type-level */
export type BlockerOf<Fs extends readonly AnyFactor[], T extends Target> = Fs extends readonly [infer F, ...infer R extends readonly AnyFactor[]]
  ? T extends UndoOf<F> ? BlockerOf<R, T> : F extends Factor<infer N, unknown, ShapeMap, Target> ? N : never
  : never
/**
 * The union of the shapes of all views of the product for input shape `S`: what a model must accept.
 * @example
 * ```ts
 * import type { ShowShape, ViewShapes, transforms } from 'tta-lens'
 * type Shapes = ViewShapes<readonly [transforms.HorizontalFlip, transforms.Rotate90<90>], readonly [1, 3, 4, 6]>
 * const all: readonly ShowShape<Shapes>[] = ['[1,3,4,6]', '[1,3,6,4]']
 * // @ts-expect-error no view changes the batch or the channels
 * const none: ShowShape<Shapes> = '[1,1,4,6]'
 * assert.strictEqual([...all, none].length, 3)
 * ```
 * @category type-level
 */
export type ViewShapes<Fs extends readonly AnyFactor[], S extends Shape> = ApplyMaps<MapsOf<Fs> extends infer Ms extends readonly ShapeMap[] ? Ms : [], S>

/**
 * The cartesian product of the factors' parameter lists.
 * @example
 * import { product, views, transforms as T } from 'tta-lens'
 * const p = product(T.hflip(), T.vflip())
 * assert.deepStrictEqual(views(p).map((v) => v.params), [[false, false], [false, true], [true, false], [true, true]])
 * @category constructors
 */
export const product = <const Fs extends readonly AnyFactor[]>(...factors: Fs): Product<Fs> => ({ _tag: 'Product', factors })

/**
 * The product with no factors: one view, the identity. It is the "no TTA" baseline to compare a
 * policy against, and the unit of {@link sequence}.
 * @example
 * import { aliases, identity, sequence, size, views } from 'tta-lens'
 * assert.strictEqual(size(identity), 1)
 * assert.strictEqual(views(identity)[0]?.name, 'identity')
 * assert.strictEqual(size(sequence(identity, aliases.flip())), size(aliases.flip()))
 * @category constructors
 */
export const identity: Product<readonly []> = product()

/**
 * Run the views of `first`, then of `second`, for every pair (the product of the two): combine
 * ready-made policies, such as an alias with your own factors, without unpacking them.
 * @example
 * import { aliases, sequence, size, views } from 'tta-lens'
 * const p = sequence(aliases.hflip(), aliases.vflip())
 * assert.strictEqual(size(p), 4)
 * assert.deepStrictEqual(views(p).map((v) => v.name), views(aliases.flip()).map((v) => v.name))
 * @category combinators
 */
export const sequence = <const A extends readonly AnyFactor[], const B extends readonly AnyFactor[]>(
  first: Product<A>,
  second: Product<B>,
): Product<readonly [...A, ...B]> => ({ _tag: 'Product', factors: [...first.factors, ...second.factors] })

/**
 * Number of views, without enumerating them: the number of model calls' worth of work a policy costs
 * (ttach runs one call per view).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, size } from 'tta-lens'
 * assert.strictEqual(size(aliases.d4()), 8)
 * assert.deepStrictEqual(E.Functor.map(aliases.tenCrop(24, 24), size), E.right(10))
 * @category utils
 */
export const size = (p: Product<readonly AnyFactor[]>): number => p.factors.reduce((n, f) => n * f.options.length, 1)

const isFactorLike = (f: unknown): boolean =>
  typeof f === 'object' && f !== null && '_tag' in f && f._tag === 'Factor' && 'name' in f && typeof f.name === 'string' &&
  'undoes' in f && Array.isArray(f.undoes) && 'options' in f && Array.isArray(f.options) && f.options.length > 0 &&
  f.options.every((o: unknown) => typeof o === 'object' && o !== null && 'steps' in o && Array.isArray(o.steps) && 'label' in o && typeof o.label === 'string')

/**
 * Checks a value from untyped code for being a product of factors (as `product`, `aliases` and
 * the transform constructors make them) with at most {@link limits}.maxViews views — counted
 * before any view is enumerated, so `d4+d4+d4+d4+d4+d4` is refused without building 262,144 views.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, checkProduct, product } from 'tta-lens'
 * assert.ok(E.isRight(checkProduct(aliases.d4())))
 * const huge = checkProduct(product(...Array.from({ length: 6 }, () => aliases.d4().factors).flat()))
 * assert.ok(E.isLeft(huge) && huge.left._tag === 'LimitError' && huge.left.value === 8 ** 6)
 * assert.ok(E.isLeft(checkProduct({ _tag: 'Product', factors: [null] })))
 * @category utils
 */
export const checkProduct = (value: unknown): E.Either<ParamError | LimitError, Product<readonly AnyFactor[]>> => {
  if (typeof value !== 'object' || value === null || !('_tag' in value) || value._tag !== 'Product' || !('factors' in value) || !Array.isArray(value.factors)) {
    return E.left(paramError('transforms must be a product of factors (see `product` and `aliases`)'))
  }
  const factors: readonly unknown[] = value.factors
  const bad = factors.findIndex((f) => !isFactorLike(f))
  if (bad >= 0) return E.left(paramError(`factor ${bad} of the product is not a transform (make factors with \`transforms\`, \`custom\` or \`aliases\`)`))
  const p: Product<readonly AnyFactor[]> = { _tag: 'Product', factors: factors.filter(isFactor) }
  const count = size(p)
  return count <= limits.maxViews ? E.right(p)
    : E.left(limitError('maxViews', count, limits.maxViews, `the product has ${count.toLocaleString('en-US')} views; the limit is ${limits.maxViews.toLocaleString('en-US')}`))
}

const isFactor = (f: unknown): f is AnyFactor => isFactorLike(f)

/**
 * Collapses adjacent flips/turns into one D4 element and adjacent pointwise ops into one, and
 * drops identities. Resamples and crops are kept where they are. Every view's steps are already
 * simplified; use it on chains you build yourself.
 * @example
 * import { simplify, dihedral4 } from 'tta-lens'
 * const steps = simplify([
 *   { op: 'd4', element: dihedral4.d4(1, false) },
 *   { op: 'd4', element: dihedral4.d4(3, false) },       // a full turn: gone
 *   { op: 'pointwise', scale: 2, shift: 0 },
 *   { op: 'pointwise', scale: 1, shift: 1 },             // 2x, then +1: one affine
 * ])
 * assert.deepStrictEqual(steps, [{ op: 'pointwise', scale: 2, shift: 1 }])
 * @category combinators
 */
export const simplify = (steps: readonly Step[]): readonly Step[] => {
  const out: Step[] = []
  for (const step of steps) {
    const last = out[out.length - 1]
    if (step.op === 'd4' && last?.op === 'd4') {
      out.pop()
      const g = after(step.element, last.element)
      if (!isIdentity(g)) out.push({ op: 'd4', element: g })
    } else if (step.op === 'pointwise' && last?.op === 'pointwise') {
      out.pop()
      const merged = { op: 'pointwise' as const, scale: last.scale * step.scale, shift: last.shift * step.scale + step.shift }
      if (!(merged.scale === 1 && merged.shift === 0)) out.push(merged)
    } else if (!(step.op === 'd4' && isIdentity(step.element)) && !(step.op === 'pointwise' && step.scale === 1 && step.shift === 0)) {
      out.push(step)
    }
  }
  return out
}

const d4Of = (steps: readonly Step[]): D4Element | undefined => {
  if (steps.length === 0) return d4Identity
  const [only] = steps
  return steps.length === 1 && only?.op === 'd4' ? only.element : undefined
}

/**
 * The views of a product in reference order (the first factor varies slowest).
 * @example
 * import { product, views, transforms as T } from 'tta-lens'
 * assert.deepStrictEqual(views(product(T.hflip(), T.vflip())).map((v) => v.name), [
 *   'identity', 'VerticalFlip(true)', 'HorizontalFlip(true)', 'HorizontalFlip(true) · VerticalFlip(true)'])
 * @category destructors
 */
export const views = (p: Product<readonly AnyFactor[]>): readonly ViewSpec[] => {
  const combos = p.factors.reduce<{ params: unknown[]; names: string[]; steps: Step[]; kind: Kind }[]>(
    (acc, factor) => acc.flatMap((c) => factor.options.map((o) => ({
      params: [...c.params, o.param],
      names: o.steps.length === 0 ? c.names : [...c.names, `${factor.name}(${o.label})`],
      steps: [...c.steps, ...o.steps],
      kind: joinKind(c.kind, o.kind),
    }))),
    [{ params: [], names: [], steps: [], kind: 'invariant' }],
  )
  return combos.map((c, index) => {
    const steps = simplify(c.steps)
    const element = d4Of(steps)
    const base = { index, params: c.params, name: c.names.length === 0 ? 'identity' : c.names.join(' · '), steps, kind: c.kind === 'invariant' && steps.length === 0 ? 'iso' as const : c.kind }
    return element === undefined ? base : { ...base, d4: element }
  })
}

/**
 * When every view is a flip/turn chain, the D4 element of each view: the product "is" a multiset of
 * dihedral elements, and `distinct` says how many different ones there are — fewer than the views
 * means some views repeat work. `undefined` when a view does anything else.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, dihedral, product, transforms as T } from 'tta-lens'
 * assert.deepStrictEqual(dihedral(aliases.flip())?.names, ['id', 'hflip·rot180', 'hflip', 'rot180'])
 * const twice = product(T.hflip(), T.hflip())                 // 4 views, 2 different elements
 * assert.strictEqual(dihedral(twice)?.distinct, 2)
 * const crops = aliases.fiveCrop(2, 2)
 * assert.ok(E.isRight(crops) && dihedral(crops.right) === undefined)
 * @category destructors
 */
export const dihedral = (p: Product<readonly AnyFactor[]>): { readonly elements: readonly D4Element[]; readonly names: readonly string[]; readonly distinct: number } | undefined => {
  const elements: D4Element[] = []
  for (const v of views(p)) {
    if (v.d4 === undefined) return undefined
    elements.push(v.d4)
  }
  const names = elements.map(d4Name)
  return { elements, names, distinct: new Set(names).size }
}
