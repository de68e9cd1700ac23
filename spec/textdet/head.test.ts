// The DB head: per-view padding to the network's multiple (boxes then lie in the unpadded view and
// map back exactly), its options checked, and a model whose output is not a map refused.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { aliases, orThrow, parsePolicy, tensor, textdet, wrap, type Tensor } from '../../src/index.js'

/** A stand-in for a DB network: the map is channel 0 of the input; like the real one it refuses sides that are not multiples of 32. */
const calls: (readonly number[])[] = []
const net = async (x: Tensor<readonly ['N', 3, 'H', 'W']>) => {
  const [n, , h, w] = x.shape
  calls.push(x.shape)
  if (h % 32 !== 0 || w % 32 !== 0) throw new Error(`sides must be multiples of 32, got ${h}x${w}`)
  const out = new Float32Array(n * h * w)
  for (let b = 0; b < n; b++) out.set(x.data.subarray(b * 3 * h * w, b * 3 * h * w + h * w), b * h * w)
  return orThrow(tensor([n, 1, h, w], out))
}

/** A 3-channel image with bright text-like bars in channel 0. */
const bars = (h: number, w: number, rects: readonly (readonly [number, number, number, number])[]) => {
  const data = new Float32Array(3 * h * w)
  for (const [x1, y1, x2, y2] of rects) for (let y = y1; y < y2; y++) for (let x = x1; x < x2; x++) data[y * w + x] = 0.9
  return orThrow(tensor([1, 3, h, w], data))
}

describe('textdet.dbHead', () => {
  it('pads each view to the multiple and decodes the map of the view itself: the same boxes as DB on the unpadded map', async () => {
    const image = bars(50, 70, [[5, 10, 40, 16], [45, 30, 66, 36]])
    calls.length = 0
    const found = await wrap.detection(orThrow(textdet.dbHead(net)), aliases.hflip(), { fusion: { method: 'nms' }, keepViews: true }).run(image)()
    if (E.isLeft(found)) throw new Error(found.left.message)
    expect(calls).toEqual([[2, 3, 64, 96]])                      // both views in one call, padded to 64×96
    const direct = orThrow(textdet.dbDetections()(orThrow(tensor([1, 1, 50, 70], image.data.subarray(0, 50 * 70)))))
    expect(found.right[0]?.views[0]?.detections).toEqual(direct)
    // the mirrored view's boxes come back onto the plain view's, within the pixel DB's unclip rounds to
    // (it rounds halves up, so a mirrored half-pixel edge lands one pixel over)
    const mirrored = [...(found.right[0]?.views[1]?.detections.boxes ?? [])].sort((a, b) => a[0] - b[0])
    const plain = [...direct.boxes].sort((a, b) => a[0] - b[0])
    expect(mirrored.length).toBe(2)
    mirrored.forEach((b, i) => b.forEach((v, k) => expect(Math.abs(v - (plain[i]?.[k] ?? Number.NaN))).toBeLessThanOrEqual(1)))
  })

  it('a 1.5× view of an odd size reaches the network padded, and its boxes come back into the image', async () => {
    const image = bars(30, 42, [[4, 8, 30, 14]])                  // 1.5×: 45×63, padded to 64×64
    calls.length = 0
    const found = orThrow(await wrap.detection(orThrow(textdet.dbHead(net)), orThrow(parsePolicy('scale:1.5/bilinear')), { fusion: { method: 'nms' } }).run(image)())
    expect(calls).toEqual([[1, 3, 64, 64]])
    const [box] = found[0]?.boxes ?? []
    expect(box !== undefined && box[0] >= 0 && box[2] <= 42 && box[3] <= 30 && textdet.boxIoU(box, [2, 6, 32, 16]) > 0.6).toBe(true)
  })

  it('without padding (multiple 1) the network refuses the view: a ModelError naming it', async () => {
    const found = await wrap.detection(orThrow(textdet.dbHead(net, { multiple: 1 })), aliases.hflip()).run(bars(20, 40, []))()
    expect(E.isLeft(found) && found.left._tag === 'ModelError' && found.left.message.includes('sides must be multiples of 32, got 20x40')).toBe(true)
  })

  it('a model whose output is not a map in the input frame is a ShapeError', async () => {
    const classifier = async (x: Tensor<readonly ['N', 3, 'H', 'W']>) => orThrow(tensor([x.shape[0], 5], new Float32Array(x.shape[0] * 5)))
    const found = await wrap.detection(orThrow(textdet.dbHead(classifier)), aliases.hflip()).run(bars(32, 32, []))()
    expect(E.isLeft(found) && `${found.left._tag}: ${found.left.message}`).toBe("ShapeError: the DB head decodes a probability map [N,1,H,W] in the input's frame: given [2,3,32,32] the model returned [2,5]")
  })

  it('checks its options; isProbabilityMap reads a signature', () => {
    const bad = (o: unknown): string => {
      const r = textdet.checkDbHeadOptions(o)
      return E.isLeft(r) ? r.left.message : 'accepted'
    }
    expect(bad({ threshold: 1.2 })).toBe('db head: threshold: expected a number in [0, 1], got 1.2')
    expect(bad({ unclipRatio: 0 })).toBe('db head: unclipRatio: expected a number in (0, 10], got 0')
    expect(bad({ multiple: 0 })).toBe('db head: multiple: expected a whole number from 1 to 1024, got 0')
    expect(bad({ boxTreshold: 0.5 })).toBe("db head: unknown key 'boxTreshold' (known: threshold, boxThreshold, minArea, minSide, unclipRatio, connectivity, multiple, outputKey)")
    expect(bad({ boxThreshold: 0.5, multiple: 16 })).toBe('accepted')
    expect(E.isLeft(Reflect.apply(textdet.dbHead, undefined, ['not a model']))).toBe(true)
    expect(textdet.isProbabilityMap({ output: ['N', 1, 'H', 'W'] })).toBe(true)
    expect(textdet.isProbabilityMap({ output: ['N', 2, 'H', 'W'] })).toBe(false)
    expect(textdet.isProbabilityMap({})).toBe(false)
  })
})
