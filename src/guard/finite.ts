/**
 * The non-finite rule: NaN and ±Infinity are never data. Every number that enters the library
 * (tensor data, an image, a view fed to a model, a model's output) and every number it returns
 * (a merged result, a metric) is finite, or the call returns a `NonFiniteError` naming where and at
 * which index. See docs/reliability.md.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { nonFiniteError, type NonFiniteError } from '../errors.js'

/**
 * The index of the first value that is not a finite number, or -1. A plain loop: it runs on every
 * model output, so it must cost about one comparison per value.
 * @example
 * import { firstNonFinite } from 'tta-lens'
 * assert.strictEqual(firstNonFinite(Float32Array.of(1, 2, 3)), -1)
 * assert.strictEqual(firstNonFinite(Float32Array.of(1, Infinity, NaN)), 1)
 * @category utils
 */
export const firstNonFinite = (data: ArrayLike<number>, from = 0, to = data.length): number => {
  for (let i = from; i < to; i++) {
    const v = data[i] ?? Number.NaN
    // v - v is 0 for finite v and NaN for ±Infinity and NaN: one subtraction, no call.
    if (v - v !== 0) return i
  }
  return -1
}

/**
 * Checks that every value is finite; `where` names the data in the error (`input`,
 * `view 'HorizontalFlip(true)'`, `merged result`). Indices are relative to `from`.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { checkFinite } from 'tta-lens'
 * assert.ok(E.isRight(checkFinite(Float32Array.of(0, 1), 'input')))
 * const bad = checkFinite(Float32Array.of(0, -Infinity), "view 'identity'")
 * assert.ok(E.isLeft(bad) && bad.left.message === "view 'identity' has -Infinity at index 1")
 * @category utils
 */
export const checkFinite = (data: ArrayLike<number>, where: string, note = '', from = 0, to = data.length): E.Either<NonFiniteError, void> => {
  const bad = firstNonFinite(data, from, to)
  return bad < 0 ? E.right(undefined) : E.left(nonFiniteError(where, bad - from, data[bad] ?? Number.NaN, note))
}
