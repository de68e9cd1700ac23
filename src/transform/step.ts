/**
 * The geometry of one transform parameter as data: a `Step`. A view of a product is a chain of
 * steps; `resolve*` turns a chain into concrete stages for a given input size, fusing every run of
 * flips, turns and crops into a single affine gather. Backends execute stages; nothing here touches
 * tensor data.
 *
 * @since 0.1.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, undoError, type ShapeError, type UndoError } from '../errors.js'
import { inverse } from '../algebra/d4.js'
import { d4IndexMap, d4MovePoint, d4OutSize, identityMap, thenMap, type AffineIndexMap, type D4Element } from './d4.js'

/** PyTorch's `interpolate` modes that have a 2-D meaning. @category model */
export type Interpolation = 'nearest' | 'nearest-exact' | 'bilinear' | 'bicubic' | 'area'

/** @category model */
export const interpolations: readonly Interpolation[] = ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area']

/** Which corner (or the centre) a crop window hugs, in ttach's names. @category model */
export type CropAnchor = 'crop_lt' | 'crop_lb' | 'crop_rb' | 'crop_rt' | 'center_crop'

/**
 * One tile of a `rows` × `cols` grid of equal tiles spread evenly over the image, the first flush
 * with the top (left) edge and the last with the bottom (right) edge (a single row or column is
 * centred). Where the tiles sit depends on the image size, so the grid is data and the offsets are
 * found when the view meets an image (see {@link cropOrigin}).
 * @example
 * import { cropOrigin, type TileAnchor } from 'tta-lens'
 * const last: TileAnchor = { row: 1, col: 2, rows: 2, cols: 3 }   // bottom-right of a 2x3 grid
 * assert.deepStrictEqual(cropOrigin(last, 10, 20, 4, 8), [6, 12])
 * @category model
 */
export interface TileAnchor {
  readonly row: number
  readonly col: number
  readonly rows: number
  readonly cols: number
}

/** A user-defined spatial gather (see `transform/custom`). @category model */
export interface CustomGeometry {
  readonly name: string
  /** Output (height, width) for an input of (height, width). */
  readonly outSize: (height: number, width: number) => readonly [number, number]
  /** Output pixel (i, j) of the view reads input pixel `forward(i, j, inHeight, inWidth)`. */
  readonly forward: (i: number, j: number, height: number, width: number) => readonly [number, number]
  /** Pixel (i, j) of the original frame reads view pixel `backward(i, j, viewHeight, viewWidth)`. */
  readonly backward: (i: number, j: number, height: number, width: number) => readonly [number, number]
  /** Keypoint maps in normalised coordinates, when the transform can move points. */
  readonly points?: {
    readonly forward: (x: number, y: number) => readonly [number, number]
    readonly backward: (x: number, y: number) => readonly [number, number]
  }
}

/** The geometry of one transform parameter as data; a view is a chain of steps, resolved into stages for a concrete size. @category model */
export type Step =
  | { readonly op: 'd4'; readonly element: D4Element }
  | { readonly op: 'crop'; readonly anchor: CropAnchor | TileAnchor; readonly height: number; readonly width: number }
  | {
      readonly op: 'resample'
      readonly target: { readonly by: 'factor'; readonly factor: number } | { readonly by: 'size'; readonly height: number; readonly width: number }
      readonly mode: Interpolation
      readonly alignCorners: boolean
    }
  | { readonly op: 'pointwise'; readonly scale: number; readonly shift: number }
  | { readonly op: 'translate'; readonly dy: number; readonly dx: number; readonly fill: Fill }
  | { readonly op: 'custom'; readonly geometry: CustomGeometry }

/**
 * What a gather reads where its source position falls outside the plane: `zeros`, or the nearest
 * `edge` pixel. Only translations step outside; every other map stays inside by construction.
 * @category model
 */
export type Fill = 'zeros' | 'edge'

/** A step resolved against a concrete plane size: what a backend runs. @category model */
export type Stage =
  | { readonly kind: 'gather'; readonly inHeight: number; readonly inWidth: number; readonly map: AffineIndexMap; readonly fill?: Fill }
  | { readonly kind: 'resample'; readonly outHeight: number; readonly outWidth: number; readonly mode: Interpolation; readonly alignCorners: boolean }
  | { readonly kind: 'pointwise'; readonly scale: number; readonly shift: number }
  | {
      readonly kind: 'custom'
      readonly name: string
      readonly outHeight: number
      readonly outWidth: number
      readonly source: (i: number, j: number) => readonly [number, number]
    }

type Size = readonly [number, number]

/** Output (i, j) reads input (i − dy, j − dx): the content moves down by dy and right by dx. */
const translateStage = (dy: number, dx: number, fill: Fill, height: number, width: number): Stage => ({
  kind: 'gather', inHeight: height, inWidth: width, fill,
  map: { outHeight: height, outWidth: width, ii: 1, ij: 0, i0: -dy, ji: 0, jj: 1, j0: -dx },
})

/** Start of tile `k` of `count` tiles of `tile` pixels spread evenly over `side` pixels. */
const tileStart = (k: number, count: number, side: number, tile: number): number =>
  count <= 1 ? Math.floor((side - tile) / 2) : Math.round((k * (side - tile)) / (count - 1))

/**
 * Top-left corner `[top, left]` of a crop window: where ttach's crop functions place a FiveCrops
 * anchor, or where a tile of a grid falls on an image of this size.
 * @example
 * import { cropOrigin } from 'tta-lens'
 * assert.deepStrictEqual(cropOrigin('crop_rb', 8, 10, 4, 4), [4, 6])
 * // the middle tile of 3 columns of 4-wide tiles on a 10-wide image starts at x = 3
 * assert.deepStrictEqual(cropOrigin({ row: 0, col: 1, rows: 1, cols: 3 }, 4, 10, 4, 4), [0, 3])
 * @category geometry
 */
export const cropOrigin = (anchor: CropAnchor | TileAnchor, height: number, width: number, ch: number, cw: number): Size => {
  if (typeof anchor !== 'string') return [tileStart(anchor.row, anchor.rows, height, ch), tileStart(anchor.col, anchor.cols, width, cw)]
  switch (anchor) {
    case 'crop_lt': return [0, 0]
    case 'crop_lb': return [height - ch, 0]
    case 'crop_rb': return [height - ch, width - cw]
    case 'crop_rt': return [0, width - cw]
    case 'center_crop': return [Math.floor(height / 2) - Math.floor(ch / 2), Math.floor(width / 2) - Math.floor(cw / 2)]
  }
}

/** Output size of a step, or why the step cannot apply to an input of this size. @category geometry */
export const stepOutSize = (step: Step, height: number, width: number): E.Either<ShapeError, Size> => {
  switch (step.op) {
    case 'd4': return E.right(d4OutSize(step.element, height, width))
    case 'pointwise':
      return E.right([height, width])
    case 'translate':
      // A shift by the whole side moves every pixel out of the frame: the view would be blank.
      return Math.abs(step.dy) >= height || Math.abs(step.dx) >= width
        ? E.left(shapeError(`Translate by [${step.dy},${step.dx}] moves a ${height}x${width} image entirely out of the frame: shifts must be smaller than the image (|dy| < ${height}, |dx| < ${width})`))
        : E.right([height, width])
    case 'crop':
      return step.height > height || step.width > width
        ? E.left(shapeError(`${cropName(step.anchor)} of ${step.height}x${step.width} does not fit inside a ${height}x${width} image`))
        : E.right([step.height, step.width])
    case 'resample': {
      const size: Size = step.target.by === 'size'
        ? [step.target.height, step.target.width]
        // ttach (and so the reference) truncates: int(h * scale).
        : [Math.trunc(height * step.target.factor), Math.trunc(width * step.target.factor)]
      return size[0] < 1 || size[1] < 1
        ? E.left(shapeError(`resampling a ${height}x${width} image ${describeResample(step)} gives an empty ${size[0]}x${size[1]} image`))
        : E.right(size)
    }
    case 'custom': {
      const size = step.geometry.outSize(height, width)
      return size.every((d) => Number.isInteger(d) && d > 0)
        ? E.right(size)
        : E.left(shapeError(`custom transform '${step.geometry.name}' maps ${height}x${width} to an invalid size ${size.join('x')}`))
    }
  }
}

/** The transform a crop step comes from, for messages. */
const cropName = (anchor: CropAnchor | TileAnchor): string => (typeof anchor === 'string' ? 'FiveCrops' : 'Tiles')

const describeResample = (step: Extract<Step, { op: 'resample' }>): string =>
  step.target.by === 'factor' ? `by ${step.target.factor}` : `to ${step.target.height}x${step.target.width}`

/**
 * The sizes of the plane before each step and after the last one: how to learn a view's size for an
 * input, or why the chain does not fit it, before any pixel is touched.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { chainSizes, dihedral4 } from 'tta-lens'
 * const turnThenCrop = chainSizes([
 *   { op: 'd4', element: dihedral4.d4(1, false) },
 *   { op: 'crop', anchor: 'center_crop', height: 2, width: 2 },
 * ], 2, 3)
 * assert.deepStrictEqual(turnThenCrop, E.right([[2, 3], [3, 2], [2, 2]]))
 * assert.ok(E.isLeft(chainSizes([{ op: 'crop', anchor: 'crop_lt', height: 4, width: 4 }], 2, 3)))
 * @category geometry
 */
export const chainSizes = (steps: readonly Step[], height: number, width: number): E.Either<ShapeError, readonly Size[]> => {
  const sizes: Size[] = [[height, width]]
  for (const step of steps) {
    const [h, w] = sizes[sizes.length - 1] ?? [height, width]
    const next = stepOutSize(step, h, w)
    if (E.isLeft(next)) return next
    sizes.push(next.right)
  }
  return E.right(sizes)
}

const isIdentityStage = (stage: Stage): boolean => {
  if (stage.kind === 'pointwise') return stage.scale === 1 && stage.shift === 0
  if (stage.kind !== 'gather') return false
  if (stage.fill !== undefined && (stage.map.i0 !== 0 || stage.map.j0 !== 0)) return false
  const id = identityMap(stage.inHeight, stage.inWidth)
  const m = stage.map
  return m.outHeight === id.outHeight && m.outWidth === id.outWidth && m.ii === 1 && m.ij === 0 && m.i0 === 0 && m.ji === 0 && m.jj === 1 && m.j0 === 0
}

type GatherStage = Extract<Stage, { kind: 'gather' }>

/**
 * Two gathers fuse into one when the bounds check of the result, done in the first one's source
 * frame, means the same as checking where the translation happened: so a translation may follow
 * only maps that keep the whole plane (flips, turns), not a crop, and two fills must agree.
 */
const canFuse = (first: GatherStage, second: GatherStage): boolean => {
  if (second.fill === undefined) return true
  if (first.fill !== undefined && first.fill !== second.fill) return false
  return first.map.outHeight * first.map.outWidth === first.inHeight * first.inWidth
}

/** Appends a stage, fusing gathers and pointwise ops with their neighbours and dropping identities. */
const pushFused = (stages: Stage[], stage: Stage): void => {
  const last = stages[stages.length - 1]
  let fused: Stage = stage
  if (last?.kind === 'gather' && stage.kind === 'gather' && canFuse(last, stage)) {
    stages.pop()
    const fill = last.fill ?? stage.fill
    const map = thenMap(last.map, stage.map)
    fused = fill === undefined ? { kind: 'gather', inHeight: last.inHeight, inWidth: last.inWidth, map } : { kind: 'gather', inHeight: last.inHeight, inWidth: last.inWidth, map, fill }
  } else if (last?.kind === 'pointwise' && stage.kind === 'pointwise') {
    stages.pop()
    fused = { kind: 'pointwise', scale: last.scale * stage.scale, shift: last.shift * stage.scale + stage.shift }
  }
  if (!isIdentityStage(fused)) stages.push(fused)
}

/**
 * The stages that augment an input plane of `height`×`width`: every run of flips, turns and crops
 * becomes one affine gather, every run of Add/Multiply one pointwise op, and identities vanish.
 * Use it to see (or execute with a `Backend`) exactly what a view does to an image of a given size.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { resolveAugment, dihedral4 } from 'tta-lens'
 * const stages = resolveAugment([
 *   { op: 'd4', element: dihedral4.d4(0, true) },
 *   { op: 'd4', element: dihedral4.d4(0, true) },   // a second mirror cancels the first
 *   { op: 'pointwise', scale: 2, shift: 0 },
 * ], 2, 3)
 * assert.deepStrictEqual(stages, E.right([{ kind: 'pointwise', scale: 2, shift: 0 }]))
 * @category geometry
 */
export const resolveAugment = (steps: readonly Step[], height: number, width: number): E.Either<ShapeError, readonly Stage[]> =>
  E.Functor.map(chainSizes(steps, height, width), (sizes) => {
    const stages: Stage[] = []
    // Add/Multiply commute with every gather and resample (their weights sum to 1), so they are
    // collected into one final pointwise stage and the gathers around them can fuse.
    let pointwise: Extract<Stage, { kind: 'pointwise' }> = { kind: 'pointwise', scale: 1, shift: 0 }
    steps.forEach((step, k) => {
      const [h, w] = sizes[k] ?? [height, width]
      const [oh, ow] = sizes[k + 1] ?? [h, w]
      switch (step.op) {
        case 'd4': pushFused(stages, { kind: 'gather', inHeight: h, inWidth: w, map: d4IndexMap(step.element, h, w) }); break
        case 'crop': {
          const [top, left] = cropOrigin(step.anchor, h, w, step.height, step.width)
          pushFused(stages, { kind: 'gather', inHeight: h, inWidth: w, map: { outHeight: oh, outWidth: ow, ii: 1, ij: 0, i0: top, ji: 0, jj: 1, j0: left } })
          break
        }
        case 'resample': stages.push({ kind: 'resample', outHeight: oh, outWidth: ow, mode: step.mode, alignCorners: step.alignCorners }); break
        case 'translate': pushFused(stages, translateStage(step.dy, step.dx, step.fill, h, w)); break
        case 'pointwise':
          pointwise = { kind: 'pointwise', scale: pointwise.scale * step.scale, shift: pointwise.shift * step.scale + step.shift }
          break
        case 'custom': {
          const g = step.geometry
          stages.push({ kind: 'custom', name: g.name, outHeight: oh, outWidth: ow, source: (i, j) => g.forward(i, j, h, w) })
          break
        }
      }
    })
    pushFused(stages, pointwise)
    return stages
  })

/**
 * The stages that put a mask predicted on the view back into the input frame: the steps undone in
 * reverse order. A crop has no undo for masks (the rest of the frame was never seen), so this is
 * also how to ask whether a chain can serve segmentation at all.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { describeStage, resolveUndoMask, dihedral4 } from 'tta-lens'
 * // A 2x3 image turned a quarter is 3x2; the undo turns the 3x2 mask back to 2x3.
 * const back = resolveUndoMask([{ op: 'd4', element: dihedral4.d4(1, false) }], 2, 3)
 * assert.deepStrictEqual(E.Functor.map(back, (s) => s.map(describeStage)), E.right(['gather 3x2 → 2x3 reading (-j + 2, i)']))
 * const crop = resolveUndoMask([{ op: 'crop', anchor: 'center_crop', height: 2, width: 2 }], 4, 4)
 * assert.ok(E.isLeft(crop) && crop.left._tag === 'UndoError')
 * @category geometry
 */
export const resolveUndoMask = (steps: readonly Step[], height: number, width: number): E.Either<ShapeError | UndoError, readonly Stage[]> =>
  E.flatMap(chainSizes(steps, height, width), (sizes) => {
    const stages: Stage[] = []
    for (let k = steps.length - 1; k >= 0; k--) {
      const step = steps[k]
      const [h, w] = sizes[k] ?? [height, width]
      const [vh, vw] = sizes[k + 1] ?? [h, w]
      if (step === undefined) continue
      switch (step.op) {
        case 'd4': pushFused(stages, { kind: 'gather', inHeight: vh, inWidth: vw, map: d4IndexMap(inverse(step.element), vh, vw) }); break
        case 'crop': return E.left(undoError(`${cropName(step.anchor)} cannot put a mask back into the full frame: the rest of the image was never seen`))
        case 'resample': stages.push({ kind: 'resample', outHeight: h, outWidth: w, mode: step.mode, alignCorners: step.alignCorners }); break
        case 'pointwise': break
        // Pixels that left the frame are gone: the mask's own edge stands in for them.
        case 'translate': pushFused(stages, translateStage(-step.dy, -step.dx, 'edge', vh, vw)); break
        case 'custom': {
          const g = step.geometry
          stages.push({ kind: 'custom', name: g.name, outHeight: h, outWidth: w, source: (i, j) => g.backward(i, j, vh, vw) })
          break
        }
      }
    }
    return E.right(stages)
  })

type PointMap = (x: number, y: number) => readonly [number, number]

/**
 * One step's keypoint map, forward (input → view) or back (view → input); `undefined` for steps
 * that do not move normalised points (resampling, Add/Multiply).
 */
const stepPointMap = (step: Step, size: Size | undefined, forward: boolean): E.Either<UndoError, PointMap | undefined> => {
  switch (step.op) {
    case 'translate': {
      const [h, w] = size ?? [Number.NaN, Number.NaN]
      if (!(h > 0 && w > 0)) return E.left(undoError(`moving keypoints ${forward ? '' : 'back '}through Translate needs the image size`))
      const sign = forward ? 1 : -1
      return E.right((x, y) => [x + (sign * step.dx) / w, y + (sign * step.dy) / h])
    }
    case 'd4': {
      const element = forward ? step.element : inverse(step.element)
      return E.right((x, y) => d4MovePoint(element, x, y))
    }
    case 'crop':
      return E.left(undoError(forward
        ? `${cropName(step.anchor)} has no keypoint map: points outside the crop leave the frame`
        : `${cropName(step.anchor)} cannot put keypoints back into the full frame: points outside the crop were never seen`))
    case 'custom': {
      const points = step.geometry.points
      if (points === undefined) return E.left(undoError(`custom transform '${step.geometry.name}' declares no keypoint map`))
      return E.right(forward ? points.forward : points.backward)
    }
    // Resampling keeps normalised coordinates; pointwise ops do not move anything.
    case 'resample':
    case 'pointwise':
      return E.right(undefined)
  }
}

/** Composes the steps' point maps in the order given by `order` (indices into `steps`). */
const composePoints = (steps: readonly Step[], sizes: readonly Size[] | undefined, order: readonly number[], forward: boolean): E.Either<UndoError, PointMap> => {
  const moves: PointMap[] = []
  for (const k of order) {
    const step = steps[k]
    if (step === undefined) continue
    const map = stepPointMap(step, sizes?.[k], forward)
    if (E.isLeft(map)) return map
    if (map.right !== undefined) moves.push(map.right)
  }
  return E.right((x, y) => moves.reduce<readonly [number, number]>(([px, py], move) => move(px, py), [x, y]))
}

/**
 * Maps one normalised keypoint predicted on the view back into the input frame. `sizes` (from
 * {@link chainSizes}) is needed only when the chain has a Translate, whose shift is in pixels.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { undoPoint, dihedral4, type Step } from 'tta-lens'
 * const back = undoPoint([{ op: 'd4', element: dihedral4.d4(0, true) }])   // a left–right mirror
 * assert.ok(E.isRight(back))
 * assert.deepStrictEqual(back.right(0.75, 0.25), [0.25, 0.25])
 * const shifted: readonly Step[] = [{ op: 'translate', dy: 0, dx: 1, fill: 'zeros' }]
 * assert.ok(E.isLeft(undoPoint(shifted)))                            // pixels, but no size given
 * assert.deepStrictEqual(E.Functor.map(undoPoint(shifted, [[4, 4], [4, 4]]), (f) => f(0.5, 0.5)), E.right([0.25, 0.5]))
 * @category geometry
 */
export const undoPoint = (steps: readonly Step[], sizes?: readonly Size[]): E.Either<UndoError, PointMap> =>
  composePoints(steps, sizes, steps.map((_, k) => steps.length - 1 - k), false)

/**
 * Where one normalised keypoint of the input lands in the view: the forward map that
 * {@link undoPoint} inverts (`undoPoint(steps) ∘ movePoint(steps) = id`, checked by the law kit).
 * @category geometry
 */
export const movePoint = (steps: readonly Step[], sizes?: readonly Size[]): E.Either<UndoError, PointMap> =>
  composePoints(steps, sizes, steps.map((_, k) => k), true)

/**
 * A stage in words, for explanations and the demo: what `explain` prints for each view, handy when
 * a view does something unexpected.
 * @example
 * import { describeStage } from 'tta-lens'
 * assert.strictEqual(describeStage({ kind: 'pointwise', scale: 1.1, shift: 0 }), 'pointwise x·1.1 + 0')
 * assert.strictEqual(describeStage({ kind: 'resample', outHeight: 4, outWidth: 6, mode: 'bilinear', alignCorners: true }),
 *   'resample (bilinear, align corners) → 4x6')
 * @category utils
 */
export const describeStage = (stage: Stage): string => {
  switch (stage.kind) {
    case 'gather': {
      const m = stage.map
      const term = (a: number, b: number, c: number): string => {
        const parts = [a === 0 ? '' : `${a === 1 ? '' : a === -1 ? '-' : a}i`, b === 0 ? '' : `${b === 1 ? '' : b === -1 ? '-' : b}j`, c === 0 ? '' : String(c)]
          .filter((p) => p !== '')
        return parts.length === 0 ? '0' : parts.join(' + ').replace(/\+ -/g, '- ')
      }
      return `gather ${stage.inHeight}x${stage.inWidth} → ${m.outHeight}x${m.outWidth} reading (${term(m.ii, m.ij, m.i0)}, ${term(m.ji, m.jj, m.j0)})`
    }
    case 'resample': return `resample (${stage.mode}${stage.alignCorners ? ', align corners' : ''}) → ${stage.outHeight}x${stage.outWidth}`
    case 'pointwise': return `pointwise x·${stage.scale} + ${stage.shift}`
    case 'custom': return `custom '${stage.name}' → ${stage.outHeight}x${stage.outWidth}`
  }
}
