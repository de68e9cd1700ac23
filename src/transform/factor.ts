/**
 * A `Factor` is one transform with its list of parameters, as in ttach: `Rotate90([0, 90])` is a
 * factor with two options. Each option carries its geometry as data (a chain of `Step`s) and its
 * kind; the factor's type carries its shape map and the targets it can undo.
 *
 * Laws, by kind (checked by the law kit for built-in and custom transforms alike):
 * - iso: `undo(do(x)) = x` and `do(undo(y)) = y` (flips, turns, their products);
 * - retraction: `undo(do(x)) = x` (integer up-scaling with nearest, then down);
 * - lossy: the shape comes back exactly, values within a stated bound on smooth inputs;
 * - invariant: nothing to undo for masks, labels, keypoints or boxes (Add, Multiply).
 *
 * @since 0.1.0
 */
import type { ShapeMap } from './shape-map.js'
import type { Step } from './step.js'

/**
 * What a view's prediction can be mapped back from: a dense mask, a label (class scores), keypoints,
 * or detection boxes. Images are always augmentable.
 * @category model
 */
export type Target = 'mask' | 'label' | 'keypoints' | 'boxes'

/**
 * How exactly a view's prediction comes back: `iso` (exactly, both ways), `retraction` (exactly,
 * one way), `lossy` (exact shape, values within a bound) or `invariant` (nothing to undo).
 * @category model
 */
export type Kind = 'iso' | 'retraction' | 'lossy' | 'invariant'

/** One parameter value of a factor, with its geometry. @category model */
export interface FactorOption<P> {
  readonly param: P
  /** ttach's text for the parameter (`true`, `90`, `crop_lt`, `[4,4]`). */
  readonly label: string
  readonly steps: readonly Step[]
  /** How exactly a mask comes back through this option. */
  readonly kind: Kind
}

declare const shapeMapType: unique symbol

/** One transform with its parameter list (ttach's transform class with its params); its type carries the shape map and the undoable targets. @category model */
export interface Factor<Name extends string = string, P = unknown, M extends ShapeMap = ShapeMap, U extends Target = Target> {
  readonly _tag: 'Factor'
  /** ttach's class name, e.g. `HorizontalFlip`. */
  readonly name: Name
  /** ttach's parameter name, e.g. `apply`, `angle`. */
  readonly pname: string
  readonly options: readonly FactorOption<P>[]
  readonly undoes: readonly U[]
  /** Phantom: the factor's shape map. */
  readonly [shapeMapType]?: M
}

/**
 * The shape map of a factor type: how its views change an NCHW shape.
 * @example
 * ```ts
 * import type { MapOf, transforms } from 'tta-lens'
 * const map: MapOf<transforms.Scale<0.5>> = { map: 'scale', factor: 0.5 }
 * // @ts-expect-error a Scale<0.5> only scales by 0.5 or 1
 * const other: MapOf<transforms.Scale<0.5>> = { map: 'scale', factor: 2 }
 * assert.deepStrictEqual([map.factor, other.factor], [0.5, 2])
 * ```
 * @category type-level
 */
export type MapOf<F> = F extends Factor<string, unknown, infer M, Target> ? M : never
/**
 * The targets a factor type can undo: which wrappers accept it.
 * @example
 * ```ts
 * import type { UndoOf, transforms } from 'tta-lens'
 * const crops: readonly UndoOf<transforms.FiveCrops<4, 4>>[] = ['label', 'boxes']
 * // @ts-expect-error crops cannot put a mask back into the full frame
 * const mask: UndoOf<transforms.FiveCrops<4, 4>> = 'mask'
 * const flips: readonly UndoOf<transforms.HorizontalFlip>[] = ['mask', 'label', 'keypoints', 'boxes']
 * assert.deepStrictEqual([crops.length, mask, flips.length], [2, 'mask', 4])
 * ```
 * @category type-level
 */
export type UndoOf<F> = F extends Factor<string, unknown, ShapeMap, infer U> ? U : never
/**
 * The parameter type of a factor type, as a view's `params` entry holds it.
 * @example
 * ```ts
 * import type { ParamOf, transforms } from 'tta-lens'
 * const angles: readonly ParamOf<transforms.Rotate90<90 | 180>>[] = [0, 90, 180]
 * // @ts-expect-error 270 is not among the factor's angles
 * const missing: ParamOf<transforms.Rotate90<90 | 180>> = 270
 * assert.deepStrictEqual([...angles, missing], [0, 90, 180, 270])
 * ```
 * @category type-level
 */
export type ParamOf<F> = F extends Factor<string, infer P, ShapeMap, Target> ? P : never

/** Joins kinds along a chain: lossy absorbs everything, retraction absorbs iso, invariant is neutral. @category utils */
export const joinKind = (a: Kind, b: Kind): Kind =>
  a === 'lossy' || b === 'lossy' ? 'lossy'
    : a === 'retraction' || b === 'retraction' ? 'retraction'
      : a === 'iso' || b === 'iso' ? 'iso'
        : 'invariant'

/** Builds a factor value; the phantom type parameters are fixed by the caller's signature. @internal */
export const makeFactor = <Name extends string, P, M extends ShapeMap, U extends Target>(
  name: Name,
  pname: string,
  options: readonly FactorOption<P>[],
  undoes: readonly U[],
): Factor<Name, P, M, U> => ({ _tag: 'Factor', name, pname, options, undoes })
