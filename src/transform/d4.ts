/**
 * Elements of the dihedral group D4 (the 8 flips and quarter turns of a rectangle) as data, and
 * their geometry: an integer affine index map for gathers and a point map for keypoints.
 *
 * An element `{ turns: k, flip: s }` means "mirror left–right `s` times, then turn a quarter
 * counter-clockwise (as displayed) `k` times" — `numpy.rot90` / `torch.rot90(x, k, (2, 3))`.
 * The group operations (composition, inverses, the table) live in `algebra/d4`.
 *
 * @since 0.1.0
 */

/** A number of quarter turns, reduced mod 4. @category model */
export type Quarter = 0 | 1 | 2 | 3

/** One of the 8 flips and quarter turns: mirror left–right if `flip`, then turn `turns` quarters counter-clockwise. @category model */
export interface D4Element {
  readonly turns: Quarter
  readonly flip: boolean
}

/**
 * Where output pixel (i, j) reads from: `srcI = ii·i + ij·j + i0`, `srcJ = ji·i + jj·j + j0`.
 * Flips, turns and crops are all of this form, so any chain of them fuses into one map.
 * @category model
 */
export interface AffineIndexMap {
  readonly outHeight: number
  readonly outWidth: number
  readonly ii: number
  readonly ij: number
  readonly i0: number
  readonly ji: number
  readonly jj: number
  readonly j0: number
}

/** The identity map of an h×w plane. @category constructors */
export const identityMap = (height: number, width: number): AffineIndexMap => ({
  outHeight: height, outWidth: width, ii: 1, ij: 0, i0: 0, ji: 0, jj: 1, j0: 0,
})

/**
 * `then(first, second)`: the map of applying `first`, then `second` to its output.
 * A gather reads through `second`'s map into `first`'s output, then through `first`'s map.
 * @category combinators
 */
export const thenMap = (first: AffineIndexMap, second: AffineIndexMap): AffineIndexMap => ({
  outHeight: second.outHeight,
  outWidth: second.outWidth,
  ii: first.ii * second.ii + first.ij * second.ji,
  ij: first.ii * second.ij + first.ij * second.jj,
  i0: first.ii * second.i0 + first.ij * second.j0 + first.i0,
  ji: first.ji * second.ii + first.jj * second.ji,
  jj: first.ji * second.ij + first.jj * second.jj,
  j0: first.ji * second.i0 + first.jj * second.j0 + first.j0,
})

const mirrorMap = (h: number, w: number): AffineIndexMap => ({
  outHeight: h, outWidth: w, ii: 1, ij: 0, i0: 0, ji: 0, jj: -1, j0: w - 1,
})

// torch.rot90(k=1): out[i][j] = in[j][w-1-i]; the output is w×h.
const quarterTurnMap = (h: number, w: number): AffineIndexMap => ({
  outHeight: w, outWidth: h, ii: 0, ij: 1, i0: 0, ji: -1, jj: 0, j0: w - 1,
})

/**
 * The gather map of a D4 element on an h×w plane: where each output pixel reads from, as one
 * integer affine map that can be fused with crops and other flips before anything is copied.
 * @example
 * import { d4IndexMap, dihedral4 } from 'tta-lens'
 * // A quarter turn of a 2x3 plane is 3x2, and output (i, j) reads input (j, 2 − i).
 * const m = d4IndexMap(dihedral4.d4(1, false), 2, 3)
 * assert.deepStrictEqual([m.outHeight, m.outWidth], [3, 2])
 * const read = (i: number, j: number) => [m.ii * i + m.ij * j + m.i0, m.ji * i + m.jj * j + m.j0]
 * assert.deepStrictEqual(read(0, 0), [0, 2])   // top-left of the view is the input's top-right
 * @category geometry
 */
export const d4IndexMap = (g: D4Element, height: number, width: number): AffineIndexMap => {
  let map = g.flip ? mirrorMap(height, width) : identityMap(height, width)
  for (let k = 0; k < g.turns; k++) map = thenMap(map, quarterTurnMap(map.outHeight, map.outWidth))
  return map
}

/** Output spatial size of a D4 element: odd turns swap height and width. @category geometry */
export const d4OutSize = (g: D4Element, height: number, width: number): readonly [number, number] =>
  g.turns % 2 === 1 ? [width, height] : [height, width]

/**
 * Where a keypoint (x, y), normalised to [0, 1] with x along the width, lands after the element.
 * Normalised coordinates make it independent of the image size, even when a turn swaps H and W.
 * @example
 * import { d4MovePoint, dihedral4 } from 'tta-lens'
 * assert.deepStrictEqual(d4MovePoint(dihedral4.d4(0, true), 0.25, 0.5), [0.75, 0.5])    // mirror
 * assert.deepStrictEqual(d4MovePoint(dihedral4.d4(1, false), 0.25, 0.75), [0.75, 0.75]) // bottom-left → bottom-right
 * @category geometry
 */
export const d4MovePoint = (g: D4Element, x: number, y: number): readonly [number, number] => {
  let px = g.flip ? 1 - x : x
  let py = y
  for (let k = 0; k < g.turns; k++) [px, py] = [py, 1 - px]
  return [px, py]
}
