import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { at, decode, tensor, zeros } from '../../src/index.js'

describe('tensor constructors', () => {
  it('builds a tensor whose data is a copy of the input', () => {
    const source = [0, 1, 2, 3, 4, 5]
    const t = tensor([1, 1, 2, 3], source)
    expect(E.isRight(t)).toBe(true)
    if (E.isLeft(t)) return
    source[0] = 99
    expect(t.right.data[0]).toBe(0)
    expect(at(t.right, [0, 0, 1, 2])).toBe(5)
  })

  it('refuses data whose length does not match the shape, saying both numbers', () => {
    const t = tensor([2, 2], [1, 2, 3])
    expect(t).toEqual(E.left({ _tag: 'ShapeError', message: 'shape [2,2] needs 4 values but 3 were given' }))
  })

  it.each([[[0, 3]], [[-1, 3]], [[2.5, 2]]])('refuses empty, negative or fractional dims %j', (shape) => {
    const t = zeros(shape)
    expect(E.isLeft(t) && t.left.message).toMatch(/must be a positive integer/)
  })

  it('decodes untyped values against symbolic shapes and binds names consistently', () => {
    const ok = decode(['N', 3, 'H', 'H'], { shape: [2, 3, 4, 4], data: new Float32Array(96) })
    expect(E.isRight(ok)).toBe(true)
    const mismatch = decode(['N', 3, 'H', 'H'], { shape: [2, 3, 4, 5], data: new Float32Array(120) })
    expect(E.isLeft(mismatch) && mismatch.left.message).toMatch(/'H' is 4 earlier but 5/)
    const wrongRank = decode(['N', 3, 'H', 'W'], { shape: [3, 4, 5], data: new Float32Array(60) })
    expect(E.isLeft(wrongRank) && wrongRank.left.message).toMatch(/expected rank 4 \[N,3,H,W\] but got rank 3/)
    const literal = decode([1, 3], { shape: [1, 4], data: [1, 2, 3, 4] })
    expect(E.isLeft(literal) && literal.left.message).toMatch(/dimension 1 must be 3/)
    expect(E.isLeft(decode([1], null))).toBe(true)
    expect(E.isLeft(decode([2], { shape: [2], data: ['a', 'b'] }))).toBe(true)
  })
})
