/**
 * The text-detection evaluation set in `assets/textdet/` (made by `tools/textdet/make_eval_set.py`):
 * reading its ground truth and its images.
 *
 * @since 0.3.0
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import * as TE from 'fp-ts/lib/TaskEither.js'
import * as t from 'io-ts'
import sharp from 'sharp'
import { assetPath } from '../io/package.js'
import type { RgbImage } from './preprocess.js'
import type { LimitError } from '../errors.js'
import { limits } from '../guard/limits.js'
import { checkImageHeader } from '../io/image.js'

/** A file that cannot be read or does not have the expected content. @category errors */
export interface DataError {
  readonly _tag: 'DataError'
  readonly message: string
  readonly cause?: unknown
}

const dataError = (message: string, cause?: unknown): DataError =>
  cause === undefined ? { _tag: 'DataError', message } : { _tag: 'DataError', message, cause }

const describe = (e: unknown): string => (e instanceof Error ? e.message : String(e))

const LineCodec = t.type({
  box: t.tuple([t.number, t.number, t.number, t.number]),
  text: t.string,
  vertical: t.boolean,
})
const ImageCodec = t.type({
  file: t.string,
  width: t.number,
  height: t.number,
  turn: t.number,
  photo: t.string,
  lines: t.array(LineCodec),
})
const TruthCodec = t.type({ images: t.array(ImageCodec) })

/** One text line of the ground truth: its ink box, its text, and whether it runs vertically. @category model */
export interface TruthLine {
  /** The ink box, `[x0, y0, x1, y1]` in pixels. */
  readonly box: readonly [number, number, number, number]
  readonly text: string
  readonly vertical: boolean
}
/** One image of the set: its file (relative to the set's folder), size, the quarter turn applied (0, 90 = counter-clockwise, 270), the photo it was cut from, and its lines. @category model */
export interface TruthImage {
  readonly file: string
  readonly width: number
  readonly height: number
  readonly turn: number
  readonly photo: string
  readonly lines: readonly TruthLine[]
}

/** The evaluation set the package ships (`assets/textdet/`), as a folder path ending in a separator. @category model */
export const EVAL_SET_DIR: string = assetPath('textdet/')

/**
 * Reads and checks `truth.json` of an evaluation set.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { textdet } from 'tta-lens/node'
 * const truth = await textdet.readTruth(textdet.EVAL_SET_DIR)()
 * assert.ok(E.isRight(truth) && truth.right.length === 80)
 * assert.ok(E.isRight(truth) && truth.right.every((im) => im.lines.length >= 3 && im.width % 32 === 0 && im.height % 32 === 0))
 * @category constructors
 */
export const readTruth = (dir: string = EVAL_SET_DIR): TE.TaskEither<DataError, readonly TruthImage[]> => async () => {
  const path = join(dir, 'truth.json')
  let json: unknown
  try {
    json = JSON.parse(await readFile(path, 'utf8'))
  } catch (e) {
    return E.left(dataError(`cannot read ${path}: ${describe(e)}`, e))
  }
  const decoded = TruthCodec.decode(json)
  return E.isRight(decoded) ? E.right(decoded.right.images) : E.left(dataError(`${path} is not an evaluation set's truth.json`))
}

/**
 * Decodes an image file to 8-bit RGB with sharp (alpha dropped, grey expanded to RGB).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { textdet } from 'tta-lens/node'
 * const image = await textdet.readImage(`${textdet.EVAL_SET_DIR}images/000.jpg`)()
 * assert.ok(E.isRight(image) && image.right.channels === 3 && image.right.data.length === image.right.width * image.right.height * 3)
 * @category constructors
 */
export const readImage = (path: string): TE.TaskEither<DataError | LimitError, RgbImage> => async () => {
  try {
    // The size comes from the header first: an image too large to decode is refused, not decoded.
    const header = await checkImageHeader(path, 3)
    if (E.isLeft(header)) return header
    const { data, info } = await sharp(path, { limitInputPixels: limits.maxElements }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true })
    return E.right({ data, width: info.width, height: info.height, channels: info.channels })
  } catch (e) {
    return E.left(dataError(`cannot decode ${path}: ${describe(e)}`, e))
  }
}
