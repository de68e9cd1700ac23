/**
 * Check 7: a literal turn that is not a multiple of 90°. A non-literal `number[]` cannot be
 * checked by the compiler; it is checked at run time (a `ParamError` in the `Either`).
 */
import { describe, expectTypeOf, test } from 'vitest'
import type * as E from 'fp-ts/lib/Either.js'
import { aliases, orThrow, transforms as T, type ParamError, type Product, type ViewShapes } from '../../src/index.js'
import type { QuarterOf } from '../../src/transform/shape-map.js'

declare const angles: number[]

describe('angles', () => {
  test('a literal 45° turn does not compile', () => {
    // @ts-expect-error "Rotate90 turns by multiples of 90°, and 45° is not one"
    T.rotate90([0, 45])
    // @ts-expect-error "Rotate90 turns by multiples of 90°, and 45° is not one"
    aliases.rotate90([45])
    // @ts-expect-error "Rotate90 turns by multiples of 90°, and 30° is not one"
    T.rotate90([90, 30])
    // @ts-expect-error "Rotate90 turns by multiples of 90°, and 90.5° is not one"
    T.rotate90([90.5])
  })

  test('multiples of 90, negative or past 360, compile and stay literal', () => {
    expectTypeOf(T.rotate90([0, 90, -90, 450])).toEqualTypeOf<E.Either<ParamError, T.Rotate90<0 | 90 | -90 | 450>>>()
    expectTypeOf(aliases.rotate90([180])).toEqualTypeOf<E.Either<ParamError, Product<readonly [T.Rotate90<180>]>>>()
  })

  test('any literal multiple of 90 is recognised, past ±1080° too', () => {
    expectTypeOf(T.rotate90([1170, -1260])).toEqualTypeOf<E.Either<ParamError, T.Rotate90<1170 | -1260>>>()
    // @ts-expect-error "Rotate90 turns by multiples of 90°, and 1100° is not one"
    T.rotate90([1100])
    const far = orThrow(aliases.rotate90([1170]))   // 13 quarter turns: H and W swap
    expectTypeOf<ViewShapes<typeof far.factors, readonly [1, 3, 4, 6]>>().toEqualTypeOf<readonly [1, 3, 4, 6] | readonly [1, 3, 6, 4]>()
    const even = orThrow(aliases.rotate90([-1260]))   // 14 quarter turns
    expectTypeOf<ViewShapes<typeof even.factors, readonly [1, 3, 4, 6]>>().toEqualTypeOf<readonly [1, 3, 4, 6]>()
    expectTypeOf<QuarterOf<0>>().toEqualTypeOf<'even'>()
    expectTypeOf<QuarterOf<-90>>().toEqualTypeOf<'odd'>()
    expectTypeOf<QuarterOf<450>>().toEqualTypeOf<'odd'>()
    expectTypeOf<QuarterOf<99990>>().toEqualTypeOf<'odd'>()
    expectTypeOf<QuarterOf<100>>().toEqualTypeOf<'none'>()
    expectTypeOf<QuarterOf<90.5>>().toEqualTypeOf<'none'>()
    expectTypeOf<QuarterOf<1e21>>().toEqualTypeOf<'none'>()   // 10^21 mod 90 = 10; run time agrees
  })

  test('a number[] is checked at run time', () => {
    expectTypeOf(T.rotate90(angles)).toEqualTypeOf<E.Either<ParamError, T.Rotate90<number>>>()
    expectTypeOf(aliases.rotate90(angles)).toEqualTypeOf<E.Either<ParamError, Product<readonly [T.Rotate90<number>]>>>()
    // Either orientation is possible, so the views are both.
    const turns = orThrow(aliases.rotate90(angles))
    expectTypeOf<ViewShapes<typeof turns.factors, readonly [1, 3, 4, 6]>>().toEqualTypeOf<readonly [1, 3, 4, 6] | readonly [1, 3, 6, 4]>()
  })
})
