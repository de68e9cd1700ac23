/**
 * Image files in and out, through sharp: decoding to an NCHW tensor with the preprocessing a model
 * expects — the preprocessing checked first, and the image's size read from its header and checked
 * against the element limit before a pixel is decoded. Writes go through `io/files` (atomic).
 *
 * @since 0.3.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import sharp from 'sharp'
import { limitError, paramError, shapeError, type LimitError, type ParamError, type ShapeError } from '../errors.js'
import { decodeWith, strictObject } from '../guard/decode.js'
import { limits } from '../guard/limits.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'

export { writeAtomic } from './files.js'

/** How pixels become model input. @category model */
export interface Preprocess {
  /** 1 (grey) or 3 (RGB). Default 3. */
  readonly channels?: 1 | 3
  /** Resize to `[height, width]` first (bilinear, as sharp does). */
  readonly size?: readonly [number, number]
  /** Per-channel mean and std subtracted/divided after scaling to 0..1. */
  readonly mean?: readonly number[]
  readonly std?: readonly number[]
  /** Channel order BGR instead of RGB (PaddleOCR, OpenCV-trained models). */
  readonly bgr?: boolean
}

/** An image as decoded: its NCHW tensor and its interleaved 8-bit pixels (for reports). @category model */
export interface DecodedImage {
  readonly tensor: Tensor<readonly [1, number, number, number]>
  readonly pixels: Uint8Array
  readonly height: number
  readonly width: number
  readonly channels: 1 | 3
}

const PreprocessCodec = strictObject('preprocess', {}, {
  channels: t.union([t.literal(1), t.literal(3)]),
  size: t.tuple([t.number, t.number]),
  mean: t.array(t.number),
  std: t.array(t.number),
  bgr: t.boolean,
})

/**
 * Checks preprocessing options from outside (CLI flags, a config) before any image is read: one
 * or three channels, a size of positive integers within the element limit, one finite mean and one
 * finite, positive std per channel.
 * @category constructors
 */
export const checkPreprocess = (pre: unknown): E.Either<ParamError | LimitError, Preprocess> => {
  const decoded = decodeWith(PreprocessCodec, pre ?? {}, 'preprocess')
  if (E.isLeft(decoded)) return decoded
  const { channels = 3, size, mean, std } = decoded.right
  if (size !== undefined) {
    if (!size.every((d) => Number.isInteger(d) && d > 0)) return E.left(paramError(`preprocess: size must be [height, width] positive integers, got [${size.join(',')}]`))
    const values = channels * size[0] * size[1]
    if (values > limits.maxElements) {
      return E.left(limitError('maxElements', values, limits.maxElements, `resizing to ${size[0]}x${size[1]} makes ${values.toLocaleString('en-US')} values; the limit is ${limits.maxElements.toLocaleString('en-US')}`))
    }
  }
  for (const [name, list] of [['mean', mean], ['std', std]] as const) {
    if (list === undefined) continue
    if (list.length !== channels) return E.left(paramError(`preprocess: ${name} needs ${channels} value${channels === 1 ? '' : 's'} (one per channel), got ${list.length}`))
    const bad = list.findIndex((v) => !Number.isFinite(v) || (name === 'std' && v <= 0))
    if (bad >= 0) return E.left(paramError(`preprocess: ${name}[${bad}] must be ${name === 'std' ? 'a finite number > 0' : 'finite'}, got ${list[bad]}`))
  }
  return E.right(decoded.right)
}

/**
 * Reads an image's size from its header (no pixel is decoded) and checks that decoding it — and
 * resizing it to `size`, as `channels` channels — stays within {@link limits}.maxElements: a
 * 746 KB PNG can hold 16000×16000 pixels. Throws only what sharp throws for an unreadable file.
 * @internal
 */
export const checkImageHeader = async (path: string, channels: number, size?: readonly [number, number]): Promise<E.Either<LimitError, { readonly width: number; readonly height: number }>> => {
  const header = await sharp(path, { failOn: 'error', limitInputPixels: false }).metadata()
  const [height = 0, width = 0, bands = 4] = [header.height, header.width, header.channels]
  const [outHeight, outWidth] = size ?? [height, width]
  const decoded = Math.max(height * width * bands, outHeight * outWidth * channels)
  return decoded > limits.maxElements
    ? E.left(limitError('maxElements', decoded, limits.maxElements,
      `${path} is ${width}x${height} (from its header): decoding it needs ${decoded.toLocaleString('en-US')} values; the limit is ${limits.maxElements.toLocaleString('en-US')}`))
    : E.right({ width, height })
}

/**
 * Decodes an image file (PNG, JPEG, WebP, …) into a `[1, C, H, W]` tensor. Its size is read from
 * the header first: an image whose decoded pixels would pass {@link limits}.maxElements is refused
 * before it is decoded (a 746 KB PNG can hold 16000×16000 pixels).
 * @category constructors
 */
export const readImage = async (path: string, options: Preprocess = {}): Promise<E.Either<ShapeError | ParamError | LimitError, DecodedImage>> => {
  const checked = checkPreprocess(options)
  if (E.isLeft(checked)) return checked
  const pre = checked.right
  const channels = pre.channels ?? 3
  try {
    const header = await checkImageHeader(path, channels, pre.size)
    if (E.isLeft(header)) return header
    let pipeline = sharp(path, { failOn: 'error', limitInputPixels: limits.maxElements }).removeAlpha()
    if (pre.size !== undefined) pipeline = pipeline.resize(pre.size[1], pre.size[0], { fit: 'fill' })
    pipeline = channels === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb')
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true })
    if (info.channels !== channels) return E.left(shapeError(`${path}: decoded ${info.channels} channels, expected ${channels}`))
    const { height, width } = info
    const out = new Float32Array(channels * height * width)
    for (let c = 0; c < channels; c++) {
      const from = pre.bgr === true && channels === 3 ? 2 - c : c
      const mean = pre.mean?.[c] ?? 0
      const std = pre.std?.[c] ?? 1
      for (let p = 0; p < height * width; p++) out[c * height * width + p] = ((data[p * channels + from] ?? 0) / 255 - mean) / std
    }
    return E.right({ tensor: assumeShape<readonly [1, number, number, number]>([1, channels, height, width], out), pixels: new Uint8Array(data), height, width, channels })
  } catch (e) {
    return E.left(shapeError(`cannot read image ${JSON.stringify(path)}: ${e instanceof Error ? e.message : String(e)}`))
  }
}

/** Encodes an 8-bit image (`channels` interleaved) as PNG bytes. @category destructors */
export const encodePng = (pixels: Uint8Array, height: number, width: number, channels: 1 | 3 | 4): Promise<Uint8Array> =>
  sharp(pixels, { raw: { width, height, channels } }).png().toBuffer()

/** A 2-D float map in [lo, hi] as an 8-bit grey image. @category destructors */
export const greyFromMap = (values: Float32Array, lo = 0, hi = 1): Uint8Array =>
  Uint8Array.from(values, (v) => Math.round(Math.min(1, Math.max(0, (v - lo) / (hi - lo))) * 255))

/** The bytes of a NumPy `.npy` file holding float32 values of `shape`. @category destructors */
export const encodeNpy = (data: Float32Array, shape: readonly number[]): Uint8Array => {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`
  const total = 10 + header.length + 1
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n'
  const out = new Uint8Array(10 + header.length + data.byteLength)
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0)
  new DataView(out.buffer).setUint16(8, header.length, true)
  out.set(new TextEncoder().encode(header), 10)
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length)
  return out
}
