/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzipped, decoded with a check of the
 * magic number, element type and sizes before any value is read.
 * @since 0.3.0
 */
import { gunzipSync } from 'node:zlib'
import { readFile, stat } from 'node:fs/promises'
import * as E from 'fp-ts/lib/Either.js'
import { limitError, shapeError, type LimitError, type ShapeError } from '../errors.js'
import { limits } from '../guard/limits.js'

/** The most bytes an IDX file may hold once unzipped: the element limit plus the largest header. */
const maxIdxBytes = limits.maxElements + 4 + 4 * 255

/** A decoded IDX file: its shape from the header and its unsigned bytes, row-major. @category model */
export interface IdxArray {
  readonly shape: readonly number[]
  readonly data: Uint8Array
}

/**
 * Decodes an unsigned-byte IDX buffer (gzipped or not).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { decodeIdx } from 'tta-lens/node'
 * const bytes = Uint8Array.of(0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9)
 * assert.deepStrictEqual(decodeIdx(bytes), E.right({ shape: [3], data: Uint8Array.of(7, 8, 9) }))
 * assert.ok(E.isLeft(decodeIdx(Uint8Array.of(1, 2, 3))))
 * @category constructors
 */
export const decodeIdx = (input: Uint8Array): E.Either<ShapeError | LimitError, IdxArray> => {
  if (!(input instanceof Uint8Array)) return E.left(shapeError('an IDX file is given as a Uint8Array of its bytes'))
  let bytes = input
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // A gzip bomb stops at the limit instead of filling memory.
      bytes = gunzipSync(bytes, { maxOutputLength: maxIdxBytes })
    } catch (e) {
      if (e instanceof RangeError) {
        return E.left(limitError('maxElements', Number.POSITIVE_INFINITY, limits.maxElements, `the gzipped IDX data unpacks to more than ${maxIdxBytes.toLocaleString('en-US')} bytes; the limit is ${limits.maxElements.toLocaleString('en-US')} values`))
      }
      return E.left(shapeError(`corrupt gzip data: ${e instanceof Error ? e.message : String(e)}`))
    }
  }
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) return E.left(shapeError('not an IDX file (bad magic number)'))
  if (bytes[2] !== 0x08) return E.left(shapeError(`only unsigned-byte IDX files are supported (type 0x${(bytes[2] ?? 0).toString(16)})`))
  const rank = bytes[3] ?? 0
  const header = 4 + 4 * rank
  if (rank === 0 || bytes.length < header) return E.left(shapeError('IDX header is truncated'))
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const shape = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false))
  const count = shape.reduce((a, d) => a * d, 1)
  if (count > limits.maxElements) {
    return E.left(limitError('maxElements', count, limits.maxElements, `the IDX header says [${shape.join(',')}] = ${count.toLocaleString('en-US')} values; the limit is ${limits.maxElements.toLocaleString('en-US')}`))
  }
  if (bytes.length !== header + count) return E.left(shapeError(`IDX data holds ${bytes.length - header} values but the header says [${shape.join(',')}] = ${count}`))
  return E.right({ shape, data: bytes.slice(header) })
}

/**
 * Reads and decodes an IDX file, such as the MNIST or Fashion-MNIST test set; a missing or
 * unreadable file is a `Left`, not an exception.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { readIdx } from 'tta-lens/node'
 * const labels = await readIdx('assets/fashion-mnist/t10k-labels-idx1-ubyte.gz')
 * assert.ok(E.isRight(labels) && labels.right.shape.join() === '10000' && labels.right.data[0] === 9)
 * assert.ok(E.isLeft(await readIdx('no/such/file.idx')))
 * @category constructors
 */
export const readIdx = async (path: string): Promise<E.Either<ShapeError | LimitError, IdxArray>> => {
  try {
    const info = await stat(path)
    if (!info.isFile()) return E.left(shapeError(`cannot read ${JSON.stringify(path)}: not a file`))
    if (info.size > maxIdxBytes) {
      return E.left(limitError('maxFileBytes', info.size, maxIdxBytes, `${JSON.stringify(path)} has ${info.size.toLocaleString('en-US')} bytes; an IDX file may have at most ${maxIdxBytes.toLocaleString('en-US')}`))
    }
    return decodeIdx(await readFile(path))
  } catch (e) {
    return E.left(shapeError(`cannot read ${JSON.stringify(path)}: ${e instanceof Error ? e.message : String(e)}`))
  }
}
