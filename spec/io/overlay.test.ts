// The box pictures: each kind in its colour at the pixels its box covers (scaled with the image),
// the rest of the photo untouched, missed truth dashed, and bad input refused.
import * as E from 'fp-ts/lib/Either.js'
import sharp from 'sharp'
import { describe, expect, it } from 'vitest'
import { overlay } from '../../src/node.js'

const hex = (colour: string): readonly number[] => [1, 3, 5].map((i) => Number.parseInt(colour.slice(i, i + 2), 16))
const decode = async (png: Uint8Array) => {
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true })
  return { info, at: (x: number, y: number): readonly number[] => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)) }
}
const grey = (w: number, h: number) => ({ data: new Uint8Array(w * h * 3).fill(90), width: w, height: h, channels: 3 as const })

describe('overlay', () => {
  it('marksOf: matched predictions, unmatched predictions, unmatched truth', () => {
    const marks = overlay.marksOf([[0, 0, 10, 10], [0, 0, 10, 4], [40, 40, 50, 50]], [[0, 0, 10, 10], [20, 20, 30, 30]])
    expect(marks.map((m) => m.kind)).toEqual(['true-positive', 'false-positive', 'false-positive', 'missed'])
    expect(marks[3]?.box).toEqual([20, 20, 30, 30])
  })

  it('draws each kind in its colour on the box edges, and leaves the inside and the rest alone', async () => {
    const marks: readonly overlay.Mark[] = [
      { box: [10, 10, 50, 30], kind: 'true-positive' },
      { box: [60, 10, 90, 30], kind: 'false-positive' },
      { box: [10, 40, 90, 55], kind: 'missed' },
    ]
    const png = await overlay.drawMarks(grey(100, 60), marks, { lineWidth: 2 })
    if (E.isLeft(png)) throw new Error(png.left.message)
    const { info, at } = await decode(png.right)
    expect([info.width, info.height, info.channels]).toEqual([100, 60, 3])
    expect(at(30, 10)).toEqual(hex(overlay.markStyles['true-positive'].colour))
    expect(at(75, 29)).toEqual(hex(overlay.markStyles['false-positive'].colour))
    expect(at(30, 20)).toEqual([90, 90, 90])                         // inside a box
    expect(at(5, 5)).toEqual([90, 90, 90])                           // outside every box
    // missed truth is dashed: along its top edge some pixels are blue and some are the photo
    const edge = Array.from({ length: 60 }, (_, k) => at(20 + k, 40).join())
    expect(edge).toContain(hex(overlay.markStyles.missed.colour).join())
    expect(edge).toContain('90,90,90')
  })

  it('scales the picture and its boxes to the width asked for', async () => {
    const png = await overlay.drawMarks(grey(200, 100), [{ box: [100, 50, 180, 90], kind: 'true-positive' }], { width: 100, lineWidth: 2 })
    if (E.isLeft(png)) throw new Error(png.left.message)
    const { info, at } = await decode(png.right)
    expect([info.width, info.height]).toEqual([100, 50])
    expect(at(70, 25)).toEqual(hex(overlay.markStyles['true-positive'].colour))   // top edge at y = 50 / 2
    expect(at(70, 35)).toEqual([90, 90, 90])
  })

  it('refuses pixels that do not fill their size, bad marks and bad options', async () => {
    const bad = async (p: Promise<E.Either<{ readonly message: string }, unknown>>) => { const r = await p; return E.isLeft(r) ? r.left.message : 'accepted' }
    expect(await bad(overlay.drawMarks({ ...grey(10, 10), data: new Uint8Array(5) }, []))).toBe('a 10×10 image with 3 channels needs 300 bytes, got 5')
    expect(await bad(overlay.drawMarks(grey(10, 10), [{ box: [0, 0, Number.NaN, 4], kind: 'missed' }]))).toMatch(/^mark 0 must be/)
    expect(await bad(Reflect.apply(overlay.drawMarks, undefined, [grey(10, 10), [{ box: [0, 0, 1, 1], kind: 'maybe' }]]))).toMatch(/^mark 0 must be/)
    expect(await bad(overlay.drawMarks(grey(10, 10), [], { width: 0 }))).toBe('width must be a whole number of pixels from 1 to 8192, got 0')
    expect(await bad(overlay.drawMarks(grey(10, 10), [], { lineWidth: -1 }))).toBe('lineWidth must be a number of pixels in (0, 64], got -1')
  })

  it('has a legend with the three kinds', () => {
    const html = overlay.legendHtml()
    for (const s of Object.values(overlay.markStyles)) expect(html).toContain(s.label)
    expect(html.match(/stroke-dasharray/g)?.length).toBe(1)
  })
})
