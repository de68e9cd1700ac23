/**
 * Input preparation for PP-OCR's text detector (PP-OCRv4 det, the DB model): 8-bit RGB pixels in,
 * a `[1, 3, H, W]` float32 tensor out, normalised exactly as PaddleOCR's `NormalizeImage` does it
 * for the detector and padded to sides that are multiples of 32.
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { shapeError, type ShapeError } from '../errors.js'
import type { TensorError } from '../tensor/tensor.js'
import { safeString } from '../guard/decode.js'
import { checkElements } from '../guard/limits.js'
import { tensor, type Tensor } from '../tensor/tensor.js'

/**
 * Decoded pixels, row-major and interleaved, as sharp's `raw()` output gives them
 * (`{ data, info: { width, height, channels } }`): 1 (grey), 3 (RGB) or 4 (RGBA, alpha ignored)
 * channels of 0..255. @category model
 */
export interface RgbImage {
  readonly data: Uint8Array | Uint8ClampedArray
  readonly width: number
  readonly height: number
  readonly channels: number
}

/** A detector input and the size of the image inside it (the rest is padding). @category model */
export interface Prepared {
  readonly input: Tensor<readonly [1, 3, number, number]>
  /** The image's own width; the input's width is this rounded up to a multiple of 32. */
  readonly width: number
  readonly height: number
}

/**
 * PaddleOCR's detector mean and standard deviation, applied (as PaddleOCR applies them) to the
 * channels in the order the image has them, which for PP-OCR is OpenCV's BGR: so blue is
 * normalised with 0.485/0.229 and red with 0.406/0.225. @category model
 */
export const PPOCR_MEAN: readonly [number, number, number] = [0.485, 0.456, 0.406]
/** See {@link PPOCR_MEAN}. @category model */
export const PPOCR_STD: readonly [number, number, number] = [0.229, 0.224, 0.225]

/** Rounds `n` up to a multiple of `k`. @category utils */
export const roundUp = (n: number, k: number): number => Math.ceil(n / k) * k

/**
 * Converts RGB pixels to the detector's input: channels reordered to BGR, each value
 * `(v / 255 - mean[c]) / std[c]` with {@link PPOCR_MEAN} and {@link PPOCR_STD} (PaddleOCR's
 * `NormalizeImage`, scale 1/255, order `hwc` then `ToCHWImage`), and the result **padded** at the
 * bottom and right with zeros (the mean colour, after normalisation) up to the next multiples of
 * `multiple` (32). PaddleOCR's own `DetResizeForTest` instead **resizes** both sides to the nearest
 * multiples of 32 (after capping the longer side at 960), which slightly stretches the image; padding
 * keeps pixel coordinates unchanged, so boxes found in the map need no rescaling — crop the map to
 * `width × height` (see `boxesFromProbability`'s `size`). An image whose sides already are multiples
 * of 32 (every image of the evaluation set) is not padded at all.
 *
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { textdet } from 'tta-lens'
 * // one white pixel and one pure red pixel, 2×1 RGB
 * const out = textdet.preprocess({ data: new Uint8Array([255, 255, 255, 255, 0, 0]), width: 2, height: 1, channels: 3 })
 * assert.ok(E.isRight(out))
 * const { input, width, height } = out.right
 * assert.deepStrictEqual([input.shape, width, height], [[1, 3, 32, 32], 2, 1])
 * const at = (c: number, x: number): number => input.data[c * 32 * 32 + x] ?? Number.NaN
 * assert.ok(Math.abs(at(0, 0) - (1 - 0.485) / 0.229) < 1e-6)   // blue of white
 * assert.ok(Math.abs(at(0, 1) - (0 - 0.485) / 0.229) < 1e-6)   // blue of red
 * assert.ok(Math.abs(at(2, 1) - (1 - 0.406) / 0.225) < 1e-6)   // red of red, in channel 2
 * assert.strictEqual(at(1, 5), 0)                               // padding
 * assert.ok(E.isLeft(textdet.preprocess({ data: new Uint8Array(5), width: 2, height: 1, channels: 3 })))
 * @category constructors
 */
export const preprocess = (image: RgbImage, multiple = 32): E.Either<ShapeError | TensorError, Prepared> => {
  const given: unknown = image
  if (typeof given !== 'object' || given === null || !('data' in given) || !(given.data instanceof Uint8Array || given.data instanceof Uint8ClampedArray)) {
    return E.left(shapeError('an image is { data: Uint8Array, width, height, channels } (sharp\'s raw output)'))
  }
  const { data, width, height, channels } = image
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    return E.left(shapeError(`image size must be positive integers, got ${safeString(width)}×${safeString(height)}`))
  }
  if (channels !== 1 && channels !== 3 && channels !== 4) return E.left(shapeError(`image must have 1, 3 or 4 channels, got ${safeString(channels)}`))
  if (data.length !== width * height * channels) {
    return E.left(shapeError(`a ${width}×${height} image with ${channels} channels needs ${width * height * channels} bytes, got ${data.length}`))
  }
  if (!Number.isInteger(multiple) || multiple < 1) return E.left(shapeError(`multiple must be a positive integer, got ${safeString(multiple)}`))
  const H = roundUp(height, multiple)
  const W = roundUp(width, multiple)
  const size = checkElements('the detector input', [1, 3, H, W])
  if (E.isLeft(size)) return size
  const plane = H * W
  const out = new Float32Array(3 * plane)
  // Output channel c (B, G, R) reads input channel 2 - c (R, G, B), grey reads channel 0.
  for (let c = 0; c < 3; c++) {
    const src = channels === 1 ? 0 : 2 - c
    const mean = PPOCR_MEAN[c] ?? 0
    const scale = 1 / (255 * (PPOCR_STD[c] ?? 1))
    const shift = mean / (PPOCR_STD[c] ?? 1)
    for (let y = 0; y < height; y++) {
      const row = c * plane + y * W
      let i = y * width * channels + src
      for (let x = 0; x < width; x++, i += channels) out[row + x] = (data[i] ?? 0) * scale - shift
    }
  }
  return E.Functor.map(tensor([1, 3, H, W], out), (input) => ({ input, width, height }))
}
