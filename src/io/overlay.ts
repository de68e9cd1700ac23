/**
 * Pictures of detections scored against ground truth: boxes drawn over the photo in three styles —
 * true positives, false positives and missed truth — as PNG bytes (sharp composites an SVG layer of
 * rectangles onto the pixels). Pure: pixels and marks in, bytes out; nothing is read or written.
 * A report places the PNGs and prints {@link markStyles} as its legend.
 *
 * The palette is Okabe and Ito's (distinguishable with the common colour-vision deficiencies), and
 * missed truth is also dashed, so the three kinds differ in more than colour.
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import sharp from 'sharp'
import { paramError, type ParamError } from '../errors.js'
import { safeString } from '../guard/decode.js'
import { limits } from '../guard/limits.js'
import { matchBoxes } from '../textdet/score.js'
import type { Box } from '../textdet/postprocess.js'

/** What a drawn box is: a prediction that matched truth, one that matched none, or truth no prediction matched. @category model */
export type MarkKind = 'true-positive' | 'false-positive' | 'missed'

/** One box to draw, in pixels of the image. @category model */
export interface Mark {
  readonly box: Box
  readonly kind: MarkKind
}

/** How each kind is drawn, and its words for a legend. @category model */
export interface MarkStyle {
  readonly colour: string
  readonly dashed: boolean
  readonly label: string
}

/**
 * The style of each kind: true positives bluish green, false positives vermilion, missed truth
 * blue and dashed (Okabe–Ito colours).
 * @example
 * import { overlay } from 'tta-lens/node'
 * assert.strictEqual(overlay.markStyles.missed.dashed, true)
 * assert.strictEqual(overlay.markStyles['true-positive'].colour, '#009E73')
 * @category constants
 */
export const markStyles: Readonly<Record<MarkKind, MarkStyle>> = {
  'true-positive': { colour: '#009E73', dashed: false, label: 'found (true positive)' },
  'false-positive': { colour: '#D55E00', dashed: false, label: 'wrong (false positive)' },
  missed: { colour: '#0072B2', dashed: true, label: 'missed truth (false negative)' },
}

/**
 * Predictions and truth as marks: matched one to one at IoU ≥ `iou` (`textdet.matchBoxes`), the
 * matched predictions are true positives, the other predictions false positives, the unmatched
 * truth boxes missed. Truth that was found is not drawn again (its prediction stands for it).
 * @example
 * import { overlay } from 'tta-lens/node'
 * const marks = overlay.marksOf([[0, 0, 10, 4], [30, 30, 40, 40]], [[0, 0, 10, 5], [50, 0, 60, 5]])
 * assert.deepStrictEqual(marks.map((m) => m.kind), ['true-positive', 'false-positive', 'missed'])
 * @category constructors
 */
export const marksOf = (predicted: readonly Box[], truth: readonly Box[], iou = 0.5): readonly Mark[] => {
  const m = matchBoxes(predicted, truth, iou)
  const matched = new Set(m.matches.map((x) => x.predicted))
  return [
    ...predicted.map((box, i): Mark => ({ box, kind: matched.has(i) ? 'true-positive' : 'false-positive' })),
    ...m.unmatchedTruth.flatMap((t): Mark[] => {
      const box = truth[t]
      return box === undefined ? [] : [{ box, kind: 'missed' }]
    }),
  ]
}

/** The pixels to draw on: interleaved 8-bit RGB (3 channels) or grey (1), row-major. @category model */
export interface Pixels {
  readonly data: Uint8Array | Uint8ClampedArray
  readonly width: number
  readonly height: number
  readonly channels: 1 | 3 | 4
}

/** Options of {@link drawMarks}. @category model */
export interface DrawOptions {
  /** Width of the PNG (the height follows); default the image's. Boxes are scaled with the image. */
  readonly width?: number
  /** Line width in output pixels; default 2, or 3 from 480 px wide. */
  readonly lineWidth?: number
}

const rect = (m: Mark, sx: number, sy: number, line: number, w: number, h: number): string => {
  const style = markStyles[m.kind]
  // Inset by half a line so a box on the image's edge stays visible.
  const x1 = Math.max(line / 2, m.box[0] * sx), y1 = Math.max(line / 2, m.box[1] * sy)
  const x2 = Math.min(w - line / 2, m.box[2] * sx), y2 = Math.min(h - line / 2, m.box[3] * sy)
  const dash = style.dashed ? ` stroke-dasharray="${line * 3} ${line * 2}"` : ''
  return `<rect x="${x1.toFixed(1)}" y="${y1.toFixed(1)}" width="${Math.max(0, x2 - x1).toFixed(1)}" height="${Math.max(0, y2 - y1).toFixed(1)}" fill="none" stroke="${style.colour}" stroke-width="${line}"${dash}/>`
}

/**
 * Draws the marks over the image and encodes a PNG. Missed truth is drawn first, then false and
 * true positives, so a prediction is on top where they overlap. A `ParamError` for pixels that do
 * not fill their size, a size past the element limit, or a box that is not four finite numbers.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import sharp from 'sharp'
 * import { overlay } from 'tta-lens/node'
 * const image = { data: new Uint8Array(40 * 30 * 3).fill(200), width: 40, height: 30, channels: 3 } as const
 * const png = await overlay.drawMarks(image, overlay.marksOf([[5, 5, 20, 15]], [[5, 5, 20, 16], [25, 20, 35, 28]]))
 * assert.ok(E.isRight(png))
 * const { data, info } = await sharp(png.right).raw().toBuffer({ resolveWithObject: true })
 * assert.deepStrictEqual([info.width, info.height], [40, 30])
 * // the true positive's top edge is bluish green (#009E73), the background untouched grey
 * const at = (x: number, y: number) => Array.from(data.subarray((y * 40 + x) * info.channels, (y * 40 + x) * info.channels + 3))
 * assert.deepStrictEqual(at(12, 5), [0, 158, 115])
 * assert.deepStrictEqual(at(2, 25), [200, 200, 200])
 * @category destructors
 */
export const drawMarks = async (image: Pixels, marks: readonly Mark[], options: DrawOptions = {}): Promise<E.Either<ParamError, Uint8Array>> => {
  const { width, height, channels, data } = image
  if (!(Number.isInteger(width) && width > 0 && Number.isInteger(height) && height > 0) || (channels !== 1 && channels !== 3 && channels !== 4)) {
    return E.left(paramError(`pixels need a positive whole width and height and 1, 3 or 4 channels, got ${safeString(width)}×${safeString(height)}×${safeString(channels)}`))
  }
  if (width * height * channels > limits.maxElements) return E.left(paramError(`an image of ${width}×${height} is past the element limit of ${limits.maxElements.toLocaleString('en-US')}`))
  if (data.length !== width * height * channels) return E.left(paramError(`a ${width}×${height} image with ${channels} channels needs ${width * height * channels} bytes, got ${data.length}`))
  const outWidth = options.width ?? width
  if (!(Number.isInteger(outWidth) && outWidth > 0 && outWidth <= 8192)) return E.left(paramError(`width must be a whole number of pixels from 1 to 8192, got ${safeString(outWidth)}`))
  const outHeight = Math.max(1, Math.round((height * outWidth) / width))
  const line = options.lineWidth ?? (outWidth >= 480 ? 3 : 2)
  if (!(Number.isFinite(line) && line > 0 && line <= 64)) return E.left(paramError(`lineWidth must be a number of pixels in (0, 64], got ${safeString(line)}`))
  const bad = marks.findIndex((m) => !Array.isArray(m.box) || m.box.length !== 4 || !m.box.every(Number.isFinite) || !(m.kind in markStyles))
  if (bad >= 0) return E.left(paramError(`mark ${bad} must be { box: [x1, y1, x2, y2] of finite numbers, kind: 'true-positive' | 'false-positive' | 'missed' }`))
  const sx = outWidth / width
  const sy = outHeight / height
  const order: readonly MarkKind[] = ['missed', 'false-positive', 'true-positive']
  const shapes = order.flatMap((kind) => marks.filter((m) => m.kind === kind).map((m) => rect(m, sx, sy, line, outWidth, outHeight)))
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${outWidth}" height="${outHeight}">${shapes.join('')}</svg>`
  const base = await sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } })
    .resize(outWidth, outHeight, { kernel: 'lanczos3', fit: 'fill' })
    .removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
  const composed = await sharp(base.data, { raw: { width: base.info.width, height: base.info.height, channels: base.info.channels } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .toBuffer({ resolveWithObject: true })
  // The composite comes back with an alpha channel: the picture is opaque, so it is encoded as RGB.
  const png = await sharp(composed.data, { raw: { width: composed.info.width, height: composed.info.height, channels: composed.info.channels } })
    .removeAlpha()
    .png({ compressionLevel: 9 })
    .toBuffer()
  return E.right(new Uint8Array(png.buffer, png.byteOffset, png.byteLength))
}

/**
 * The legend of the three kinds as an HTML fragment (an inline SVG swatch and the words for each),
 * for a report to place next to the pictures.
 * @example
 * import { overlay } from 'tta-lens/node'
 * const html = overlay.legendHtml()
 * assert.ok(html.includes('#D55E00') && html.includes('missed truth'))
 * @category destructors
 */
export const legendHtml = (): string => (Object.entries(markStyles)).map(([, s]) =>
  `<span class="legend-item"><svg width="28" height="14" aria-hidden="true"><rect x="2" y="2" width="24" height="10" fill="none" stroke="${s.colour}" stroke-width="3"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/></svg> ${s.label}</span>`).join(' ')
