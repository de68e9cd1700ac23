/**
 * Check 11: a literal empty parameter list. Every factor needs at least one parameter; a `[]` does
 * not compile, a `number[]` (known only at run time) is a `ParamError` there.
 */
import { describe, test } from 'vitest'
import { aliases, transforms as T } from '../../src/index.js'

declare const some: number[]

describe('empty parameter lists', () => {
  test('rotate90([]) does not compile', () => {
    // @ts-expect-error "Rotate90 needs at least one angle"
    T.rotate90([])
    // @ts-expect-error "Rotate90 needs at least one angle"
    aliases.rotate90([])
    T.rotate90(some)
  })

  test('nor do the other factors with a literal []', () => {
    // @ts-expect-error "Scale needs at least one factor"
    T.scale([])
    // @ts-expect-error "Scale needs at least one factor"
    aliases.multiscale([])
    // @ts-expect-error "Resize needs at least one size"
    T.resize([])
    // @ts-expect-error "Add needs at least one value"
    T.add([])
    // @ts-expect-error "Multiply needs at least one value"
    T.multiply([])
    // @ts-expect-error "Translate needs at least one shift"
    T.translate([])
    T.scale(some)
    T.scale([2])
  })
})
