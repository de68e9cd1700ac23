/**
 * Boxes through a view: where a box `[x1, y1, x2, y2]` of the input lands in the view, and where a
 * box found on the view came from in the input. Boxes live in continuous pixel coordinates — pixel
 * (i, j) covers `[j, j + 1) × [i, i + 1)`, x along the width — so every step maps corners exactly
 * as it moves pixels:
 *
 * | step | view → input |
 * | --- | --- |
 * | flip / turn (D4) | the inverse element on the view's size: a mirror is `x ↦ w − x`, a quarter turn `(x, y) ↦ (h − y, x)` … |
 * | crop, tile | `+ (left, top)`: the window's offset |
 * | translate `[dy, dx]` | `− (dx, dy)` |
 * | scale, resize | `× (input / view)` per axis (the size ratio, whatever the interpolation) |
 * | Add, Multiply | nothing moves |
 * | custom | its normalised point map, between the two sizes; without one, boxes cannot come back |
 *
 * All four corners are mapped and the box is their bounding box, so a turned or flipped box comes
 * back with `x1 ≤ x2` and `y1 ≤ y2` (and a custom map that turns by other angles gives the box
 * around the turned one).
 *
 * A view shows only part of the input when it crops, tiles or shifts: its **visible window** is
 * that part, in input pixels. Boxes that come back are clipped to it (what lies outside was never
 * seen, or is the fill a shift brought in); a box that touches a side of the window lying inside the
 * input frame was probably cut by the view's border ({@link cutSides}).
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, undoError, type ParamError, type ShapeError, type UndoError } from '../errors.js'
import { inverse } from '../algebra/d4.js'
import type { D4Element } from './d4.js'
import { chainSizes, cropOrigin, type Step } from './step.js'

/**
 * A box as four numbers: `[x1, y1, x2, y2]`, in pixels of some frame.
 * @example
 * import type { Corners } from 'tta-lens'
 * const box: Corners = [1, 2, 5, 6]   // 4 wide, 4 high, its top-left corner at (1, 2)
 * assert.strictEqual(box[2] - box[0], 4)
 * @category model
 */
export type Corners = readonly [x1: number, y1: number, x2: number, y2: number]

type Size = readonly [number, number]
type PixelMap = (x: number, y: number) => readonly [number, number]

/**
 * Where a point `(x, y)` in pixels of a `height`×`width` plane lands after the D4 element: a mirror
 * is `x ↦ width − x`, a quarter turn (counter-clockwise as displayed) `(x, y) ↦ (y, width − x)` on
 * the way to a `width`×`height` plane. The pixel form of {@link d4MovePoint}, exact on integers.
 * @example
 * import { d4MovePixel, dihedral4 } from 'tta-lens'
 * // the top-right corner of a 2x3 image is the top-left corner of its quarter turn (3x2)
 * assert.deepStrictEqual(d4MovePixel(dihedral4.d4(1, false), 3, 0, 2, 3), [0, 0])
 * assert.deepStrictEqual(d4MovePixel(dihedral4.d4(0, true), 1, 2, 2, 3), [2, 2])
 * @category geometry
 */
export const d4MovePixel = (g: D4Element, x: number, y: number, height: number, width: number): readonly [number, number] => {
  let px = g.flip ? width - x : x
  let py = y
  let w = width
  let h = height
  for (let k = 0; k < g.turns; k++) {
    ;[px, py] = [py, w - px]
    ;[h, w] = [w, h]
  }
  return [px, py]
}

/** One step's pixel map, forward (`from` → `to`) or back (`to` → `from`); undefined when nothing moves. */
const stepPixelMap = (step: Step, from: Size, to: Size, forward: boolean): E.Either<UndoError, PixelMap | undefined> => {
  const [fh, fw] = from
  const [th, tw] = to
  switch (step.op) {
    case 'd4':
      return E.right(forward
        ? (x, y) => d4MovePixel(step.element, x, y, fh, fw)
        : (x, y) => d4MovePixel(inverse(step.element), x, y, th, tw))
    case 'crop': {
      const [top, left] = cropOrigin(step.anchor, fh, fw, step.height, step.width)
      return E.right(forward ? (x, y) => [x - left, y - top] : (x, y) => [x + left, y + top])
    }
    case 'translate':
      return E.right(forward ? (x, y) => [x + step.dx, y + step.dy] : (x, y) => [x - step.dx, y - step.dy])
    case 'resample':
      return E.right(forward ? (x, y) => [(x * tw) / fw, (y * th) / fh] : (x, y) => [(x * fw) / tw, (y * fh) / th])
    case 'pointwise':
      return E.right(undefined)
    case 'custom': {
      const points = step.geometry.points
      if (points === undefined) return E.left(undoError(`custom transform '${step.geometry.name}' declares no point map, so it cannot move boxes`))
      return E.right(forward
        ? (x, y) => { const [u, v] = points.forward(x / fw, y / fh); return [u * tw, v * th] }
        : (x, y) => { const [u, v] = points.backward(x / tw, y / th); return [u * fw, v * fh] })
    }
  }
}

/** The bounding box of a box's four corners under a point map: ordered whatever the map does. */
const mapCorners = (move: PixelMap, [x1, y1, x2, y2]: Corners): Corners => {
  const corners = [move(x1, y1), move(x2, y1), move(x1, y2), move(x2, y2)]
  const xs = corners.map(([x]) => x)
  const ys = corners.map(([, y]) => y)
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)]
}

/**
 * What {@link boxMaps} gives for a view on an image of a given size.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, boxMaps, views, type BoxMaps } from 'tta-lens'
 * const [, mirror] = views(aliases.hflip())
 * const maps: E.Either<unknown, BoxMaps> = boxMaps(mirror!.steps, 4, 6)
 * assert.ok(E.isRight(maps) && maps.right.undo([0, 0, 2, 1]).join() === '4,0,6,1' && maps.right.window?.join() === '0,0,6,4')
 * @category model
 */
export interface BoxMaps {
  /** The input's `[height, width]`. */
  readonly input: Size
  /** The view's `[height, width]`. */
  readonly view: Size
  /** Input pixels → view pixels (the box around the moved corners). */
  readonly move: (box: Corners) => Corners
  /** View pixels → input pixels (the box around the corners brought back). */
  readonly undo: (box: Corners) => Corners
  /**
   * The part of the input the view shows, in input pixels (the whole frame for flips, turns and
   * scales), or `undefined` when it shows none of it (a shift by more than the image).
   */
  readonly window: Corners | undefined
}

const compose = (maps: readonly PixelMap[]): PixelMap =>
  (x, y) => maps.reduce<readonly [number, number]>(([px, py], m) => m(px, py), [x, y])

const intersect = (a: Corners, b: Corners): Corners | undefined => {
  const box: Corners = [Math.max(a[0], b[0]), Math.max(a[1], b[1]), Math.min(a[2], b[2]), Math.min(a[3], b[3])]
  return box[0] <= box[2] && box[1] <= box[3] ? box : undefined
}

/**
 * The box maps of a chain of steps on an input of `height`×`width`: forward, back, and the window
 * of the input the view shows. A `ShapeError` when the chain does not fit the input, an `UndoError`
 * when a step cannot move boxes (a custom transform without a point map), a `ParamError` when a
 * custom point map throws. (`move` and `undo` run the custom point maps as they are: they may throw.)
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { boxMaps, dihedral4, type Step } from 'tta-lens'
 * // A quarter turn of a 4x6 image is 6x4; a box on the turned view comes back ordered.
 * const turn: readonly Step[] = [{ op: 'd4', element: dihedral4.d4(1, false) }]
 * const maps = boxMaps(turn, 4, 6)
 * assert.ok(E.isRight(maps))
 * assert.deepStrictEqual(maps.right.view, [6, 4])
 * assert.deepStrictEqual(maps.right.undo(maps.right.move([1, 0, 3, 2])), [1, 0, 3, 2])
 * // A crop shows only its window; boxes found on it shift back by its offset.
 * const crop = boxMaps([{ op: 'crop', anchor: 'crop_rb', height: 2, width: 2 }], 4, 6)
 * assert.ok(E.isRight(crop) && crop.right.window?.join() === '4,2,6,4' && crop.right.undo([0, 0, 1, 1]).join() === '4,2,5,3')
 * @category geometry
 */
export const boxMaps = (steps: readonly Step[], height: number, width: number): E.Either<ShapeError | UndoError | ParamError, BoxMaps> =>
  E.flatMap(chainSizes(steps, height, width), (sizes) => {
    const forward: PixelMap[] = []
    const backward: PixelMap[] = []
    for (const [k, step] of steps.entries()) {
      const from = sizes[k] ?? [height, width]
      const to = sizes[k + 1] ?? from
      const there = stepPixelMap(step, from, to, true)
      const back = stepPixelMap(step, from, to, false)
      if (E.isLeft(there)) return there
      if (E.isLeft(back)) return back
      if (there.right !== undefined) forward.push(there.right)
      if (back.right !== undefined) backward.unshift(back.right)
    }
    const view = sizes[sizes.length - 1] ?? [height, width]
    const move = compose(forward)
    const undo = compose(backward)
    // The window: the view's frame brought back one step at a time, each time cut to the frame of
    // that step's input (a shift's fill and a crop's outside never reach the next step back).
    let window: Corners | undefined = [0, 0, view[1], view[0]]
    try {
      for (let k = steps.length - 1; k >= 0 && window !== undefined; k--) {
        const step = steps[k]
        const from = sizes[k] ?? [height, width]
        const to = sizes[k + 1] ?? from
        const back = step === undefined ? E.right(undefined) : stepPixelMap(step, from, to, false)
        if (E.isRight(back) && back.right !== undefined) window = mapCorners(back.right, window)
        window = intersect(window, [0, 0, from[1], from[0]])
        // A window that is only a line shows no pixel.
        if (window !== undefined && (window[0] === window[2] || window[1] === window[3])) window = undefined
      }
    } catch (e) {
      // Only a custom transform's point map runs user code here.
      return E.left(paramError(`a custom point map failed: ${e instanceof Error ? e.message : String(e)}`))
    }
    return E.right({ input: [height, width], view, move: (b) => mapCorners(move, b), undo: (b) => mapCorners(undo, b), window })
  })

/**
 * Which sides of a box (in input pixels) lie on a side of the view's window that is inside the
 * input frame: the sides where the view's border probably cut the object (a tile's inner edge, a
 * crop's edge, the edge a shift pushed content over). Within `tolerance` input pixels; the input's
 * own edges never count. Empty for views that show the whole frame.
 * @example
 * import { cutSides } from 'tta-lens'
 * // the right half of an 8-wide image: its left side x = 4 is inside the frame
 * assert.deepStrictEqual(cutSides([4, 1, 6, 3], [4, 0, 8, 4], [4, 8], 0.5), ['left'])
 * assert.deepStrictEqual(cutSides([5, 1, 8, 3], [4, 0, 8, 4], [4, 8], 0.5), [])
 * @category geometry
 */
export const cutSides = (box: Corners, window: Corners | undefined, input: Size, tolerance: number): readonly ('left' | 'top' | 'right' | 'bottom')[] => {
  const [h, w] = input
  const sides: ('left' | 'top' | 'right' | 'bottom')[] = []
  if (window === undefined) return sides
  if (window[0] > tolerance && box[0] <= window[0] + tolerance) sides.push('left')
  if (window[1] > tolerance && box[1] <= window[1] + tolerance) sides.push('top')
  if (window[2] < w - tolerance && box[2] >= window[2] - tolerance) sides.push('right')
  if (window[3] < h - tolerance && box[3] >= window[3] - tolerance) sides.push('bottom')
  return sides
}

/**
 * A box cut to a window, or `undefined` when they do not meet (a box of zero width or height on
 * the window's edge still meets it).
 * @example
 * import { clipBox } from 'tta-lens'
 * assert.deepStrictEqual(clipBox([-2, 1, 3, 9], [0, 0, 8, 4]), [0, 1, 3, 4])
 * assert.strictEqual(clipBox([9, 1, 10, 2], [0, 0, 8, 4]), undefined)
 * @category geometry
 */
export const clipBox = (box: Corners, window: Corners | undefined): Corners | undefined => (window === undefined ? undefined : intersect(box, window))
