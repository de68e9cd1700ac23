/**
 * Memory budgets: a number of bytes, or text such as `'512MiB'`, `'2GB'`, `'64 KiB'`.
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { paramError, type ParamError } from '../errors.js'

const units: Readonly<Record<string, number>> = {
  b: 1, kb: 1e3, mb: 1e6, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30,
}

/** A memory budget: a number of bytes, or text such as `'512MiB'` or `'2GB'`. @category model */
export type Budget = number | string

/**
 * Parses a byte budget.
 * @example
 * import { parseBudget } from 'tta-lens'
 * assert.deepStrictEqual(parseBudget('512MiB'), { _tag: 'Right', right: 512 * 2 ** 20 })
 * assert.strictEqual(parseBudget('lots')._tag, 'Left')
 * @category constructors
 */
export const parseBudget = (budget: unknown): E.Either<ParamError, number> => {
  if (typeof budget === 'number') {
    return Number.isFinite(budget) && budget > 0 ? E.right(Math.floor(budget)) : E.left(paramError(`a memory budget must be a positive number of bytes, got ${budget}`))
  }
  const match = typeof budget === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(budget) : null
  const factor = units[(match?.[2] ?? '').toLowerCase() || 'b']
  if (match === null || factor === undefined) {
    return E.left(paramError(`cannot read the memory budget ${JSON.stringify(budget)}: use bytes or a size such as '512MiB' or '2GB'`))
  }
  const bytes = Math.floor(Number(match[1]) * factor)
  return bytes > 0 ? E.right(bytes) : E.left(paramError(`a memory budget must be positive, got ${String(budget)}`))
}

/**
 * Human-readable bytes for explanations, in binary units with one decimal.
 * @example
 * import { showBytes } from 'tta-lens'
 * assert.strictEqual(showBytes(512), '512 B')
 * assert.strictEqual(showBytes(1536), '1.5 KiB')
 * assert.strictEqual(showBytes(3 * 2 ** 20), '3.0 MiB')
 * @category utils
 */
export const showBytes = (bytes: number): string =>
  bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB`
    : bytes >= 2 ** 20 ? `${(bytes / 2 ** 20).toFixed(1)} MiB`
      : bytes >= 2 ** 10 ? `${(bytes / 2 ** 10).toFixed(1)} KiB`
        : `${bytes} B`
