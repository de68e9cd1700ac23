/**
 * DB-style post-processing of a text-probability map (PP-OCR's `DBPostProcess`, approximated with
 * axis-aligned boxes): binarise, label connected components, one box per component, score, unclip.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, type ShapeError } from '../errors.js'
import type { Detections } from '../boxes/detections.js'
import type { Shape } from '../tensor/shape.js'
import type { Tensor } from '../tensor/tensor.js'

/** An axis-aligned box `[x0, y0, x1, y1]` in pixels; `x1` and `y1` are exclusive. @category model */
export type Box = readonly [x0: number, y0: number, x1: number, y1: number]

/** One detected text region. @category model */
export interface Detection {
  /** The unclipped (expanded) box, clipped to the image. */
  readonly box: Box
  /** The component's own box before unclipping. */
  readonly core: Box
  /** Mean probability over `core` (PP-OCR's `box_score_fast`). */
  readonly score: number
  /** Pixels in the component. */
  readonly area: number
}

/** Post-processing settings; the defaults are PP-OCR's (`det_db_*`) where PP-OCR has one. @category model */
export interface BoxOptions {
  /** Pixels with probability `> threshold` are text. Default 0.3 (`det_db_thresh`). */
  readonly threshold?: number
  /** Components whose mean probability over their box is below this are dropped. Default 0.6 (`det_db_box_thresh`). */
  readonly boxThreshold?: number
  /** Components with fewer pixels than this are dropped. Default 10. */
  readonly minArea?: number
  /** Components whose box is thinner than this (pixels) are dropped. Default 3 (PP-OCR's `min_size`). */
  readonly minSide?: number
  /** PP-OCR's unclip ratio: how far the shrunk text kernel is grown back. Default 1.5 (`det_db_unclip_ratio`). */
  readonly unclipRatio?: number
  /** 8 (default: what OpenCV's outer contours follow) or 4. */
  readonly connectivity?: 4 | 8
  /** Look only at the top-left `width × height` of the map (the image without its padding). */
  readonly size?: { readonly width: number; readonly height: number }
}

/** A probability map: a tensor `[H, W]`, `[1, H, W]` or `[1, 1, H, W]`. */
const planeOf = (map: Tensor<Shape>): E.Either<ShapeError, { readonly height: number; readonly width: number }> => {
  const dims = map.shape
  const height = dims[dims.length - 2]
  const width = dims[dims.length - 1]
  const lead = dims.slice(0, -2).reduce((a, d) => a * d, 1)
  if (height === undefined || width === undefined || lead !== 1 || dims.length > 4) {
    return E.left(shapeError(`a probability map must be [H,W], [1,H,W] or [1,1,H,W], got [${dims.join(',')}]`))
  }
  if (map.data.length !== height * width) return E.left(shapeError(`map data has ${map.data.length} values for [${dims.join(',')}]`))
  return E.right({ height, width })
}

/**
 * The pixels of a map above a threshold (compared in float32), as a 0/1 mask (row-major `height × width`).
 * @example
 * import { orThrow, tensor, textdet } from 'tta-lens'
 * const mask = orThrow(textdet.binarize(orThrow(tensor([1, 1, 1, 4], [0.1, 0.3, 0.31, 0.9])), 0.3))
 * assert.deepStrictEqual(Array.from(mask), [0, 0, 1, 1])
 * @category utils
 */
export const binarize = (map: Tensor<Shape>, threshold = 0.3): E.Either<ShapeError, Uint8Array> =>
  E.Functor.map(planeOf(map), () => {
    const out = new Uint8Array(map.data.length)
    const t = Math.fround(threshold)
    for (let i = 0; i < out.length; i++) out[i] = (map.data[i] ?? 0) > t ? 1 : 0
    return out
  })

/**
 * Text boxes from a text-probability map, DB style (PP-OCR's `DBPostProcess` with axis-aligned
 * boxes):
 *
 * 1. binarise: a pixel is text when its probability is `> threshold` (0.3; compared in float32,
 *    as NumPy does in PP-OCR, so a map value of exactly `0.3` is not text);
 * 2. label connected components (8-connectivity by default, as OpenCV's contours; or 4);
 * 3. each component gives its pixel bounding box `core = [x0, y0, x1, y1]` (`x1`, `y1`
 *    exclusive); components with fewer than `minArea` pixels, a side under `minSide`, or a mean
 *    probability over `core` below `boxThreshold` (0.6) are dropped;
 * 4. **unclip**: DB trains on text kernels shrunk by `D = A(1 - r²)/L` and PP-OCR grows each
 *    detected polygon back by `d = A · unclipRatio / L` (A its area, L its perimeter; pyclipper's
 *    rounded offset, then the minimum-area rectangle of the result). Here the polygon is the
 *    axis-aligned `core` itself, with `w = x1 - x0`, `h = y1 - y0` counted in pixels, so
 *    `d = w·h·unclipRatio / (2(w + h))`; the bounding rectangle of a rectangle offset by `d`
 *    (rounded corners or not) is the rectangle grown by `d` on every side, so the box is
 *    `[x0 - d, y0 - d, x1 + d, y1 + d]`, rounded to the nearest integers and clipped to the map.
 *    PP-OCR measures the same rectangle between pixel centres (`w - 1`, `h - 1`), so its boxes come
 *    out about one pixel smaller in each dimension; rotated text gets PP-OCR's rotated rectangle
 *    there and the axis-aligned hull here.
 *
 * Boxes come in raster order of each component's first pixel (its top row, left-most pixel there).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { orThrow, tensor, textdet } from 'tta-lens'
 * // a 10×16 map with one 8-wide, 3-high blob of probability 0.9 at x 4..11, y 3..5
 * const data = new Float32Array(10 * 16)
 * for (let y = 3; y < 6; y++) for (let x = 4; x < 12; x++) data[y * 16 + x] = 0.9
 * const found = textdet.boxesFromProbability(orThrow(tensor([1, 1, 10, 16], data)))
 * assert.ok(E.isRight(found) && found.right.length === 1)
 * const [blob] = found.right
 * // d = 8·3·1.5 / (2·(8 + 3)) ≈ 1.64: [4 - d, 3 - d, 12 + d, 6 + d] rounds to [2, 1, 14, 8]
 * assert.deepStrictEqual([blob?.core, blob?.box], [[4, 3, 12, 6], [2, 1, 14, 8]])
 * // with threshold 0.95 nothing is text
 * const none = textdet.boxesFromProbability(orThrow(tensor([10, 16], data)), { threshold: 0.95 })
 * assert.ok(E.isRight(none) && none.right.length === 0)
 * @category destructors
 */
export const boxesFromProbability = (map: Tensor<Shape>, options: BoxOptions = {}): E.Either<ShapeError, readonly Detection[]> => {
  const plane = planeOf(map)
  if (E.isLeft(plane)) return plane
  const { threshold = 0.3, boxThreshold = 0.6, minArea = 10, minSide = 3, unclipRatio = 1.5, connectivity = 8 } = options
  const stride = plane.right.width
  const width = Math.min(stride, options.size?.width ?? stride)
  const height = Math.min(plane.right.height, options.size?.height ?? plane.right.height)
  if (!(width > 0 && height > 0)) return E.left(shapeError(`size must be positive, got ${width}×${height}`))
  if (connectivity !== 4 && connectivity !== 8) return E.left(shapeError(`connectivity must be 4 or 8, got ${String(connectivity)}`))
  const prob = map.data
  // Compared in float32, as NumPy compares PP-OCR's float32 map with its Python-float threshold.
  const cut = Math.fround(threshold)
  const label = new Int32Array(width * height) // 0: unvisited or background; k > 0: component k
  const stack = new Int32Array(width * height)
  const found: Detection[] = []
  let next = 0
  for (let start = 0; start < width * height; start++) {
    if (label[start] !== 0) continue
    const sx = start % width
    const sy = (start - sx) / width
    if (!((prob[sy * stride + sx] ?? 0) > cut)) continue
    next++
    label[start] = next
    let top = 0
    stack[top++] = start
    let x0 = sx, x1 = sx, y0 = sy, y1 = sy, area = 0
    while (top > 0) {
      const p = stack[--top] ?? 0
      const px = p % width
      const py = (p - px) / width
      area++
      if (px < x0) x0 = px
      if (px > x1) x1 = px
      if (py < y0) y0 = py
      if (py > y1) y1 = py
      for (let dy = -1; dy <= 1; dy++) {
        const qy = py + dy
        if (qy < 0 || qy >= height) continue
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (connectivity === 4 && dx !== 0 && dy !== 0)) continue
          const qx = px + dx
          if (qx < 0 || qx >= width) continue
          const q = qy * width + qx
          if (label[q] === 0 && (prob[qy * stride + qx] ?? 0) > cut) {
            label[q] = next
            stack[top++] = q
          }
        }
      }
    }
    const w = x1 + 1 - x0
    const h = y1 + 1 - y0
    if (area < minArea || Math.min(w, h) < minSide) continue
    let sum = 0
    for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) sum += prob[y * stride + x] ?? 0
    const score = sum / (w * h)
    if (score < boxThreshold) continue
    const d = (w * h * unclipRatio) / (2 * (w + h))
    const clip = (v: number, hi: number): number => Math.min(hi, Math.max(0, Math.round(v)))
    found.push({
      core: [x0, y0, x1 + 1, y1 + 1],
      box: [clip(x0 - d, width), clip(y0 - d, height), clip(x1 + 1 + d, width), clip(y1 + 1 + d, height)],
      score,
      area,
    })
  }
  return E.right(found)
}

/**
 * A 0/1 mask (row-major `height × width`) that is 1 inside any of the boxes (clipped to the frame).
 * @example
 * import { textdet } from 'tta-lens'
 * const mask = textdet.boxMask([[1, 0, 3, 1], [2, 1, 9, 2]], 4, 2)
 * assert.deepStrictEqual(Array.from(mask), [0, 1, 1, 0, 0, 0, 1, 1])
 * @category utils
 */
export const boxMask = (boxes: readonly Box[], width: number, height: number): Uint8Array => {
  const mask = new Uint8Array(width * height)
  for (const [bx0, by0, bx1, by1] of boxes) {
    const x0 = Math.max(0, Math.floor(bx0)), x1 = Math.min(width, Math.ceil(bx1))
    const y0 = Math.max(0, Math.floor(by0)), y1 = Math.min(height, Math.ceil(by1))
    for (let y = y0; y < y1; y++) mask.fill(1, y * width + x0, y * width + Math.max(x0, x1))
  }
  return mask
}

/**
 * Text regions as detections (`boxes.Detections`): each region's unclipped `box` in pixels (its
 * exclusive right and bottom edges are the box's `x2`, `y2`), its score clamped to [0, 1], label 0
 * (text). What the detection wrapper fuses.
 * @example
 * import { textdet } from 'tta-lens'
 * const found = textdet.toDetections([{ box: [2, 1, 14, 8], core: [4, 3, 12, 6], score: 0.9, area: 24 }])
 * assert.deepStrictEqual(found, { boxes: [[2, 1, 14, 8]], scores: [0.9], labels: [0] })
 * @category destructors
 */
export const toDetections = (found: readonly Detection[]): Detections => ({
  boxes: found.map((d) => d.box),
  scores: found.map((d) => Math.min(1, Math.max(0, d.score))),
  labels: found.map(() => 0),
})

/**
 * DB post-processing as a detection model's decode step: pass it to `wrap.detector` with the text
 * detector, and `wrap.detection` runs each view's probability map through {@link boxesFromProbability}
 * and fuses the boxes instead of the maps. `options.size` is usually left out here: each view's
 * map is decoded whole (padding holds no text), and the boxes come back in the padded input's frame.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, orThrow, tensor, textdet, wrap, type Tensor } from 'tta-lens'
 * // A stand-in for the detector: its "probability map" is its first input channel.
 * const fakeDetector = async (x: Tensor<readonly ['N', 3, 'H', 'W']>) => {
 *   const [n, , h, w] = x.shape
 *   return orThrow(tensor([n, 1, h, w], Array.from({ length: n }, (_, b) => Array.from(x.data.subarray(b * 3 * h * w, b * 3 * h * w + h * w))).flat()))
 * }
 * const data = new Float32Array(3 * 10 * 16)
 * for (let y = 3; y < 6; y++) for (let x = 4; x < 12; x++) data[y * 16 + x] = 0.9
 * const image = orThrow(tensor([1, 3, 10, 16], data))
 * const found = await wrap.detection(wrap.detector(fakeDetector, textdet.dbDetections()), aliases.flip()).run(image)()
 * assert.ok(E.isRight(found) && found.right[0]?.boxes.length === 1)
 * assert.deepStrictEqual(found.right[0]?.boxes[0]?.map(Math.round), [2, 1, 14, 8])
 * @category destructors
 */
export const dbDetections = (options: BoxOptions = {}) => (map: Tensor<Shape>): E.Either<ShapeError, Detections> =>
  E.Functor.map(boxesFromProbability(map, options), toDetections)
