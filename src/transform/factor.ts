/**
 * A `Factor` is one transform with its list of parameters, as in ttach: `Rotate90([0, 90])` is a
 * factor with two options. Each option carries its geometry as data (a chain of `Step`s) and its
 * kind; the factor's type carries its shape map and the targets it can undo.
 *
 * Laws, by kind (checked by the law kit for built-in and custom transforms alike):
 * - iso: `undo(do(x)) = x` and `do(undo(y)) = y` (flips, turns, their products);
 * - retraction: `undo(do(x)) = x` (integer up-scaling with nearest, then down);
 * - lossy: the shape comes back exactly, values within a stated bound on smooth inputs;
 * - invariant: nothing to undo for masks, labels or keypoints (Add, Multiply).
 *
 * @since 0.1.0
 */
import type { ShapeMap } from './shape-map.js'
import type { Step } from './step.js'

/** What a view's prediction can be mapped back from. Images are always augmentable. @category model */
export type Target = 'mask' | 'label' | 'keypoints'

/** @category model */
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

/** @category model */
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

/** The shape map of a factor type. @category type-level */
export type MapOf<F> = F extends Factor<string, unknown, infer M, Target> ? M : never
/** The targets a factor type can undo. @category type-level */
export type UndoOf<F> = F extends Factor<string, unknown, ShapeMap, infer U> ? U : never
/** The parameter type of a factor type. @category type-level */
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
