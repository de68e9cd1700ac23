/**
 * The stated limits: every size, count and thread number that reaches the library from outside
 * is checked against these before any work or allocation, so that one bad flag or file header is
 * refused in microseconds instead of growing the process by gigabytes. See docs/reliability.md.
 *
 * Browser-safe: no Node built-ins.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { allocationError, limitError, paramError, type AllocationError, type LimitError, type ParamError } from '../errors.js'

/**
 * The limits, in one place.
 * @example
 * import { limits } from 'tta-lens'
 * assert.strictEqual(limits.maxElements, 2 ** 28)      // 1 GiB of float32 in one tensor
 * assert.strictEqual(limits.defaultBudget, 2 * 2 ** 30) // a plan's peak memory, unless a budget is given
 * @category model
 */
export const limits = {
  /** Values in one tensor — an image, a view, a model input, a merge — and in one decoded image or IDX file: 2^28 (1 GiB as float32). */
  maxElements: 2 ** 28,
  /** Views of one transform product. */
  maxViews: 4096,
  /** Boxes in one call of box fusion, all views together (soft-NMS is quadratic: 10,000 boxes take seconds). */
  maxBoxes: 10_000,
  /** onnxruntime intra-op threads. */
  maxThreads: 256,
  /** A plan's estimated peak memory when no `budget` is given: 2 GiB. A larger run needs an explicit budget. */
  defaultBudget: 2 * 2 ** 30,
  /** Bytes of a file read whole (a model, an IDX file, a JSON config): 2 GiB. */
  maxFileBytes: 2 * 2 ** 30,
  /** Timed repetitions of `tta-lens bench`. */
  maxBenchRuns: 1000,
  /** Longest timeout, in milliseconds (about 24.8 days: what `setTimeout` can wait). */
  maxTimeoutMs: 2 ** 31 - 1,
} as const

const grouped = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : String(n))

/**
 * Checks a run-time shape against {@link limits}.maxElements before anything of that shape is
 * allocated. `what` names the tensor in the message. Dims must already be positive integers.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { checkElements } from 'tta-lens'
 * assert.ok(E.isRight(checkElements('the image', [1, 3, 512, 512])))
 * const big = checkElements('the image', [1, 3, 2 ** 15, 2 ** 15])
 * assert.ok(E.isLeft(big) && big.left._tag === 'LimitError' && big.left.limit === 'maxElements')
 * assert.strictEqual(E.isLeft(big) && big.left.message,
 *   'the image [1,3,32768,32768] holds 3,221,225,472 values; the limit is 268,435,456 (1.0 GiB of float32)')
 * @category utils
 */
export const checkElements = (what: string, shape: readonly number[]): E.Either<LimitError, number> => {
  const count = shape.reduce((a, d) => a * d, 1)
  return count <= limits.maxElements
    ? E.right(count)
    : E.left(limitError('maxElements', count, limits.maxElements,
      `${what} [${shape.join(',')}] holds ${grouped(count)} values; the limit is ${grouped(limits.maxElements)} (1.0 GiB of float32)`))
}

/**
 * Checks a count from outside (`what` names it) for being an integer from 1 to `max`: a ParamError
 * when it is not a positive integer, a LimitError when it is over `max`.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { checkCount, limits } from 'tta-lens'
 * assert.deepStrictEqual(checkCount('threads', 4, limits.maxThreads), E.right(4))
 * const many = checkCount('threads', 100000, limits.maxThreads)
 * assert.ok(E.isLeft(many) && many.left.message === 'threads must be at most 256, got 100,000')
 * const half = checkCount('threads', 1.5, limits.maxThreads)
 * assert.ok(E.isLeft(half) && half.left._tag === 'ParamError')
 * @category utils
 */
export const checkCount = (what: string, value: unknown, max: number): E.Either<ParamError | LimitError, number> => {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    return E.left(paramError(`${what} must be a positive integer, got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}`))
  }
  return value <= max ? E.right(value) : E.left(limitError(what, value, max, `${what} must be at most ${grouped(max)}, got ${grouped(value)}`))
}

/** Why a typed array could not be made: the engine's RangeError, as data. */
const allocationFailure = (what: string, bytes: number, cause: unknown): AllocationError =>
  allocationError(`cannot allocate ${what} (${grouped(bytes)} bytes): ${cause instanceof Error ? cause.message : String(cause)}`, bytes)

/**
 * Allocates a `Float32Array` or `Float64Array` of `length`, returning an {@link AllocationError}
 * instead of throwing when the engine refuses.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { allocate } from 'tta-lens'
 * const ok = allocate(Float32Array, 4, 'a buffer')
 * assert.ok(E.isRight(ok) && ok.right.length === 4)
 * const no = allocate(Float64Array, 2 ** 53, 'an impossible buffer')
 * assert.ok(E.isLeft(no) && no.left._tag === 'AllocationError')
 * @category utils
 */
export const allocate = <A extends Float32Array | Float64Array>(
  kind: { new (length: number): A; readonly BYTES_PER_ELEMENT: number },
  length: number,
  what: string,
): E.Either<AllocationError, A> => {
  try {
    return E.right(new kind(length))
  } catch (cause) {
    return E.left(allocationFailure(what, length * kind.BYTES_PER_ELEMENT, cause))
  }
}

/** `true` for the engine's "could not allocate" errors (a RangeError from a typed array or an array buffer). @internal */
export const isAllocationFailure = (e: unknown): e is RangeError =>
  e instanceof RangeError && /allocat|array length|buffer length|invalid typed array|out of memory/i.test(e.message)

/** An allocation failure caught around library code, as data. @internal */
export const asAllocationError = (what: string, e: RangeError): AllocationError =>
  allocationError(`cannot allocate ${what}: ${e.message}`)
