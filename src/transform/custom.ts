/**
 * User-defined invertible transforms. A custom transform is a pair of spatial gathers, each with
 * its shape signature as a pattern over names: `forward` maps `from` to `to`, `backward` must map
 * `to` back to `from` — a mismatch does not compile. The transform becomes a factor with options
 * `[false, true]` (identity and applied), so it composes with the built-ins in products, and the
 * law kit checks it exactly as it checks flips and turns.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, type ParamError } from '../errors.js'
import type { Dim, ImageShape, ShowShape } from '../tensor/shape.js'
import { makeFactor, type Factor, type Target } from './factor.js'
import type { CustomGeometry } from './step.js'

/** One direction of a custom transform. @category model */
export interface GatherSpec<From extends ImageShape, To extends ImageShape> {
  /** Input pattern, e.g. `['N', 'C', 'H', 'W']`. */
  readonly from: From
  /** Output pattern over the same names (or literal sizes), e.g. `['N', 'C', 'W', 'H']`. */
  readonly to: To
  /** Output pixel (i, j) reads input pixel `source(i, j, inHeight, inWidth)`. */
  readonly source: (i: number, j: number, height: number, width: number) => readonly [number, number]
}

/** What {@link custom} takes: a name, the forward and backward gathers with their shape patterns, and optional keypoint maps. @category model */
export interface CustomSpec<Name extends string, F extends ImageShape, T extends ImageShape, BF extends ImageShape, BT extends ImageShape> {
  readonly name: Name
  readonly forward: GatherSpec<F, T>
  readonly backward: GatherSpec<BF, BT>
  /** Normalised point maps; without them the transform cannot undo keypoints or boxes. */
  readonly points?: {
    readonly forward: (x: number, y: number) => readonly [number, number]
    readonly backward: (x: number, y: number) => readonly [number, number]
  }
}

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false

/** `unknown` when `backward` inverts `forward`'s shapes, else an error that says how it does not. @category type-level */
export type CheckInverse<Name extends string, F extends ImageShape, T extends ImageShape, BF extends ImageShape, BT extends ImageShape> =
  Same<BF, T> extends true
    ? Same<BT, F> extends true
      ? unknown
      : { readonly error: `the inverse of '${Name}' returns ${ShowShape<BT>} but must return the forward input ${ShowShape<F>}` }
    : { readonly error: `the inverse of '${Name}' takes ${ShowShape<BF>} but must take the forward output ${ShowShape<T>}` }

/** A custom transform as a factor. @category model */
export type Custom<Name extends string, F extends ImageShape, T extends ImageShape, U extends Target> =
  Factor<Name, boolean, { readonly map: 'custom'; readonly from: F; readonly to: T }, U>

type UndoTargets<P> = undefined extends P ? 'mask' | 'label' : 'mask' | 'label' | 'keypoints' | 'boxes'

const sizeFrom = (from: readonly Dim[], to: readonly Dim[], name: string): E.Either<ParamError, (h: number, w: number) => readonly [number, number]> => {
  if (from.length !== 4 || to.length !== 4) return E.left(paramError(`custom transform '${name}': patterns must be NCHW (rank 4)`))
  if (from[0] !== to[0] || from[1] !== to[1]) {
    return E.left(paramError(`custom transform '${name}': only the spatial dims may change (batch and channels must map to themselves)`))
  }
  const [, , fh, fw] = from
  const dim = (d: Dim | undefined): E.Either<ParamError, (h: number, w: number) => number> =>
    typeof d === 'number' ? E.right(() => d)
      : d === fh ? E.right((h) => h)
        : d === fw ? E.right((_h, w) => w)
          : E.left(paramError(`custom transform '${name}': output dim '${String(d)}' is not a spatial name of the input pattern`))
  const [, , th, tw] = to
  return E.flatMap(dim(th), (oh) => E.Functor.map(dim(tw), (ow) => (h: number, w: number) => [oh(h, w), ow(h, w)] as const))
}

/**
 * Defines an invertible spatial transform. Check it with `laws.check` like any built-in.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { custom, laws } from 'tta-lens'
 * const transpose = custom({
 *   name: 'transpose',
 *   forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
 *   backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
 *   points: { forward: (x, y) => [y, x], backward: (x, y) => [y, x] },
 * })
 * assert.ok(E.isRight(transpose) && E.isRight(laws.check(transpose.right)))
 * @category constructors
 */
export const custom = <
  const Name extends string,
  const F extends ImageShape,
  const T extends ImageShape,
  const BF extends ImageShape,
  const BT extends ImageShape,
  const S extends CustomSpec<Name, F, T, BF, BT>,
>(spec: S & CustomSpec<Name, F, T, BF, BT> & CheckInverse<Name, F, T, BF, BT>): E.Either<ParamError, Custom<Name, F, T, UndoTargets<S['points']>>> => {
  const { name, forward, backward, points } = spec
  return E.flatMap(sizeFrom(forward.from, forward.to, name), (outSize) =>
    E.Functor.map(sizeFrom(backward.from, backward.to, name), () => {
      const geometry: CustomGeometry = {
        name, outSize, forward: forward.source, backward: backward.source,
        ...(points === undefined ? {} : { points }),
      }
      const undoes: readonly Target[] = points === undefined ? ['mask', 'label'] : ['mask', 'label', 'keypoints', 'boxes']
      const targets = undoes.filter((t): t is UndoTargets<S['points']> => undoes.includes(t))
      return makeFactor<Name, boolean, { readonly map: 'custom'; readonly from: F; readonly to: T }, UndoTargets<S['points']>>(
        name, 'apply',
        [false, true].map((p) => ({ param: p, label: String(p), steps: p ? [{ op: 'custom', geometry }] : [], kind: 'iso' })),
        targets)
    }))
}
