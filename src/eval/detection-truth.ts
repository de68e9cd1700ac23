/**
 * Ground truth for detection scoring, as a JSON file beside a folder of images — the format
 * `tta-lens eval -t detection` reads, of which the bundled `assets/textdet/truth.json` is an example:
 *
 * ```json
 * { "images": [
 *   { "file": "images/000.jpg", "width": 640, "height": 640,
 *     "boxes": [[433, 205, 450, 478], [162, 89, 187, 359]], "labels": [0, 0] },
 *   { "file": "images/001.jpg", "width": 640, "height": 640,
 *     "lines": [{ "box": [12, 40, 300, 62], "text": "any other keys are ignored" }] }
 * ] }
 * ```
 *
 * - `file`: the image, relative to the folder, inside it (no `..`, not absolute), listed once;
 * - `width`, `height` (optional, both or neither): the image's size in pixels; then every box must
 *   lie within it, and the image read must have that size;
 * - `boxes`: `[x1, y1, x2, y2]` in pixels (`x2`, `y2` exclusive), with `x1 < x2` and `y1 < y2`;
 *   `labels` (optional): one non-negative integer class per box, default 0. Or, as the text set
 *   writes it, `lines`: objects with a `box` (label 0). An image with no objects has `"boxes": []`.
 *
 * Anything else in the file (a description, a seed, per-image notes) is ignored.
 *
 * @since 0.5.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, type ParamError } from '../errors.js'
import { decodeWith, safeString } from '../guard/decode.js'
import type { Box } from '../textdet/postprocess.js'

/** One image's truth: where it is, its size if stated, its boxes and their classes. @category model */
export interface TruthEntry {
  readonly file: string
  readonly size?: { readonly width: number; readonly height: number }
  readonly boxes: readonly Box[]
  readonly labels: readonly number[]
}

const Entry = t.intersection([
  t.type({ file: t.string }),
  t.partial({ width: t.unknown, height: t.unknown, boxes: t.unknown, labels: t.unknown, lines: t.unknown }),
])
const TruthFile = t.type({ images: t.array(Entry) })

const isBox = (u: unknown): u is readonly [number, number, number, number] =>
  Array.isArray(u) && u.length === 4 && u.every((v) => typeof v === 'number' && Number.isFinite(v))

const positiveWhole = (u: unknown): u is number => typeof u === 'number' && Number.isSafeInteger(u) && u > 0

/**
 * Decodes and checks a truth file's JSON (see the module header for the format). `where` names the
 * file in messages; every message names the image (`images[3] (images/003.jpg)`) and the box.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { decodeDetectionTruth } from 'tta-lens'
 * const ok = decodeDetectionTruth({ images: [{ file: 'a.jpg', width: 40, height: 30, boxes: [[1, 2, 10, 12]] }] }, 'truth.json')
 * assert.ok(E.isRight(ok) && ok.right[0]?.labels[0] === 0)
 * const out = decodeDetectionTruth({ images: [{ file: 'a.jpg', width: 40, height: 30, boxes: [[1, 2, 50, 12]] }] }, 'truth.json')
 * assert.ok(E.isLeft(out) && out.left.message === 'truth.json: images[0] (a.jpg): box 0 [1, 2, 50, 12] lies outside the 40×30 image')
 * const up = decodeDetectionTruth({ images: [{ file: '../b.jpg', boxes: [] }] }, 'truth.json')
 * assert.ok(E.isLeft(up) && up.left.message.includes('inside the folder'))
 * @category constructors
 */
export const decodeDetectionTruth = (json: unknown, where: string): E.Either<ParamError, readonly TruthEntry[]> => {
  const decoded = decodeWith(TruthFile, json, where)
  if (E.isLeft(decoded)) return E.left(paramError(`${decoded.left.message} (a truth file is { "images": [{ "file", "boxes" or "lines", … }] })`))
  const seen = new Set<string>()
  const entries: TruthEntry[] = []
  for (const [i, image] of decoded.right.images.entries()) {
    const at = `${where}: images[${i}] (${image.file})`
    const fail = (why: string): E.Either<ParamError, never> => E.left(paramError(`${at}: ${why}`))
    const parts = image.file.split(/[\\/]/)
    if (image.file === '' || image.file.startsWith('/') || /^[A-Za-z]:/.test(image.file) || parts.includes('..')) {
      return fail('file must be a path inside the folder (relative, without ..)')
    }
    if (seen.has(image.file)) return fail('is listed twice')
    seen.add(image.file)
    const { width, height } = image
    if ((width === undefined) !== (height === undefined)) return fail('give both width and height, or neither')
    if (width !== undefined && !(positiveWhole(width) && positiveWhole(height))) return fail(`width and height must be positive whole numbers, got ${safeString(width)}×${safeString(height)}`)
    const size = positiveWhole(width) && positiveWhole(height) ? { width, height } : undefined
    if ((image.boxes === undefined) === (image.lines === undefined)) return fail('needs "boxes" (or the text set\'s "lines"), one of the two')
    let raw: readonly unknown[]
    let labels: readonly unknown[] | undefined
    if (image.boxes !== undefined) {
      if (!Array.isArray(image.boxes)) return fail(`boxes must be an array of [x1, y1, x2, y2], got ${safeString(image.boxes)}`)
      raw = image.boxes
      if (image.labels !== undefined) {
        if (!Array.isArray(image.labels) || image.labels.length !== raw.length) return fail(`labels must be an array with one class per box (${raw.length})`)
        labels = image.labels
      }
    } else {
      if (!Array.isArray(image.lines)) return fail(`lines must be an array of { "box": [x1, y1, x2, y2] }, got ${safeString(image.lines)}`)
      if (image.labels !== undefined) return fail('labels go with "boxes", not with "lines"')
      const lines: readonly unknown[] = image.lines
      raw = lines.map((l) => (typeof l === 'object' && l !== null && 'box' in l ? l.box : l))
    }
    const boxes: Box[] = []
    const classes: number[] = []
    for (const [k, box] of raw.entries()) {
      if (!isBox(box)) return fail(`box ${k} must be [x1, y1, x2, y2] of finite numbers, got ${safeString(box)}`)
      const [x1, y1, x2, y2] = box
      if (!(x1 < x2 && y1 < y2)) return fail(`box ${k} [${box.join(', ')}] has no area (boxes are [x1, y1, x2, y2] with x1 < x2 and y1 < y2)`)
      if (size !== undefined && (x1 < 0 || y1 < 0 || x2 > size.width || y2 > size.height)) return fail(`box ${k} [${box.join(', ')}] lies outside the ${size.width}×${size.height} image`)
      const label: unknown = labels?.[k] ?? 0
      if (!(typeof label === 'number' && Number.isSafeInteger(label) && label >= 0)) return fail(`label ${k} must be a non-negative whole number, got ${safeString(label)}`)
      boxes.push([x1, y1, x2, y2])
      classes.push(label)
    }
    entries.push({ file: image.file, ...(size === undefined ? {} : { size }), boxes, labels: classes })
  }
  return E.right(entries)
}

/**
 * Checks truth boxes against the size of the image as read (for entries that did not state one).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { checkTruthFits } from 'tta-lens'
 * const entry = { file: 'a.jpg', boxes: [[0, 0, 50, 10]] as const, labels: [0] }
 * assert.ok(E.isRight(checkTruthFits(entry, 64, 48)))
 * assert.ok(E.isLeft(checkTruthFits(entry, 40, 48)))
 * @category constructors
 */
export const checkTruthFits = (entry: TruthEntry, width: number, height: number): E.Either<ParamError, TruthEntry> => {
  if (entry.size !== undefined && (entry.size.width !== width || entry.size.height !== height)) {
    return E.left(paramError(`the truth says ${entry.size.width}×${entry.size.height}, but the image is ${width}×${height}`))
  }
  const k = entry.boxes.findIndex(([x1, y1, x2, y2]) => x1 < 0 || y1 < 0 || x2 > width || y2 > height)
  const box = entry.boxes[k]
  return box === undefined ? E.right(entry) : E.left(paramError(`truth box ${k} [${box.join(', ')}] lies outside the ${width}×${height} image`))
}
