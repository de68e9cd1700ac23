/**
 * Image files in and out, through sharp: decoding to an NCHW tensor with the preprocessing a model
 * expects, and atomic writes (a temporary file renamed into place, so an interrupted run never
 * leaves a half-written output that a rerun would mistake for a finished one).
 *
 * @since 0.3.0
 */
import { randomBytes } from 'node:crypto'
import { rename, rm, writeFile } from 'node:fs/promises'
import * as E from 'fp-ts/lib/Either.js'
import sharp from 'sharp'
import { shapeError, type ShapeError } from '../errors.js'
import { assumeShape, type Tensor } from '../tensor/trusted.js'

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

/**
 * Decodes an image file (PNG, JPEG, WebP, …) into a `[1, C, H, W]` tensor.
 * @category constructors
 */
export const readImage = async (path: string, pre: Preprocess = {}): Promise<E.Either<ShapeError, DecodedImage>> => {
  const channels = pre.channels ?? 3
  try {
    let pipeline = sharp(path, { failOn: 'error' }).removeAlpha()
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

/** Writes bytes atomically: a temporary file beside the target, then a rename. @category destructors */
export const writeAtomic = async (path: string, bytes: Uint8Array | string): Promise<void> => {
  const temporary = `${path}.${randomBytes(4).toString('hex')}.tmp`
  try {
    await writeFile(temporary, bytes)
    await rename(temporary, path)
  } finally {
    await rm(temporary, { force: true })
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
