import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { PPOCR_MEAN, PPOCR_STD, preprocess } from '../../src/textdet/index.js'

const value = (v: number, c: number): number => (v / 255 - (PPOCR_MEAN[c] ?? 0)) / (PPOCR_STD[c] ?? 1)

describe('preprocess', () => {
  it('reorders RGB to BGR and normalises each channel with PP-OCR mean/std in that order', () => {
    const [r, g, b] = [10, 120, 250]
    const out = preprocess({ data: new Uint8Array([r, g, b]), width: 1, height: 1, channels: 3 })
    expect(E.isRight(out)).toBe(true)
    if (E.isLeft(out)) return
    const { data, shape } = out.right.input
    expect(shape).toEqual([1, 3, 32, 32])
    const plane = 32 * 32
    expect(data[0]).toBeCloseTo(value(b, 0), 5)
    expect(data[plane]).toBeCloseTo(value(g, 1), 5)
    expect(data[2 * plane]).toBeCloseTo(value(r, 2), 5)
  })

  it('keeps sides that are multiples of 32 and pads the others at the bottom and right with zeros', () => {
    const image = { data: new Uint8Array(64 * 33 * 4).fill(255), width: 64, height: 33, channels: 4 }
    const out = preprocess(image)
    if (E.isLeft(out)) throw new Error(out.left.message)
    expect(out.right.input.shape).toEqual([1, 3, 64, 64])
    expect([out.right.width, out.right.height]).toEqual([64, 33])
    const d = out.right.input.data
    expect(d[32 * 64 + 63]).toBeCloseTo(value(255, 0), 5)  // last image row
    expect(d[33 * 64]).toBe(0)                           // first padded row
    expect(d[64 * 64 - 1]).toBe(0)
    const exact = preprocess({ data: new Uint8Array(32 * 96 * 3), width: 96, height: 32, channels: 3 })
    expect(E.isRight(exact) && exact.right.input.shape).toEqual([1, 3, 32, 96])
  })

  it('expands grey to three channels and rejects wrong sizes', () => {
    const grey = preprocess({ data: new Uint8Array([200]), width: 1, height: 1, channels: 1 })
    if (E.isLeft(grey)) throw new Error(grey.left.message)
    expect(grey.right.input.data[0]).toBeCloseTo(value(200, 0), 5)
    expect(grey.right.input.data[2 * 32 * 32]).toBeCloseTo(value(200, 2), 5)
    expect(E.isLeft(preprocess({ data: new Uint8Array(6), width: 1, height: 1, channels: 3 }))).toBe(true)
    expect(E.isLeft(preprocess({ data: new Uint8Array(2), width: 1, height: 1, channels: 2 }))).toBe(true)
    expect(E.isLeft(preprocess({ data: new Uint8Array(0), width: 0, height: 1, channels: 3 }))).toBe(true)
  })
})
