/**
 * The public law kit: fast-check arbitraries, law predicates and `check`, for any transform,
 * built-in or custom. See docs/laws.md for the catalogue and a walk-through.
 *
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { aliases, laws } from 'tta-lens'
 * const report = laws.check(aliases.flip())
 * assert.ok(E.isRight(report))
 *
 * @since 0.1.0
 */
export * as arbitraries from './arbitraries.js'
export * from './laws.js'
export * from './check.js'
export * from './fusion.js'
