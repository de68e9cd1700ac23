// Box undo, step type by step type, on non-square frames: hand-computed numbers, and the box a
// detector would find on the real augmented pixels.
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  aliases, boxMaps, custom, deaugmentBoxesData, dihedral4, orThrow, product, runnableViews, tensor, transforms as T, views,
  type Corners, type Step, type ViewSpec,
} from '../../src/index.js'

const one = (box: Corners) => ({ boxes: [box], scores: [0.75], labels: [2] })
const back = (spec: ViewSpec, box: Corners, h: number, w: number, options = {}) =>
  orThrow(deaugmentBoxesData(spec, one(box), h, w, options)).boxes
const viewOf = (steps: readonly Step[], name = 'steps'): ViewSpec => ({ index: 0, params: [], name, steps, kind: 'iso' })

/** The box around the nonzero pixels of a plane: what a "find the bright rectangle" detector returns. */
const litBox = (data: Float32Array, height: number, width: number): Corners | undefined => {
  let box: [number, number, number, number] | undefined
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      if ((data[i * width + j] ?? 0) === 0) continue
      box = box === undefined ? [j, i, j + 1, i + 1] : [Math.min(box[0], j), Math.min(box[1], i), Math.max(box[2], j + 1), Math.max(box[3], i + 1)]
    }
  }
  return box
}

/** A 1-channel image with a rectangle of ones. */
const rectangle = (height: number, width: number, [x1, y1, x2, y2]: Corners) =>
  orThrow(tensor([1, 1, height, width], Array.from({ length: height * width }, (_, k) => {
    const i = Math.floor(k / width)
    const j = k % width
    return i >= y1 && i < y2 && j >= x1 && j < x2 ? 1 : 0
  })))

describe('flips and turns (non-square 4x6 frame)', () => {
  const [h, w] = [4, 6]
  it('mirrors x and y', () => {
    expect(back(viewOf([{ op: 'd4', element: dihedral4.d4(0, true) }]), [0, 1, 2, 3], h, w)).toEqual([[4, 1, 6, 3]])
    // vflip = hflip·rot180: y ↦ 4 − y
    expect(back(viewOf([{ op: 'd4', element: dihedral4.d4(2, true) }]), [0, 1, 2, 3], h, w)).toEqual([[0, 1, 2, 3]])
    expect(back(viewOf([{ op: 'd4', element: dihedral4.d4(2, true) }]), [0, 0, 2, 1], h, w)).toEqual([[0, 3, 2, 4]])
  })

  it('turns a box on the 6x4 view back into the 4x6 frame, ordered', () => {
    // rot90 (counter-clockwise): input (x, y) → view (y, 6 − x); so view box [0, 0, 1, 2] came from x in [4, 6], y in [0, 1].
    expect(back(viewOf([{ op: 'd4', element: dihedral4.d4(1, false) }]), [0, 0, 1, 2], h, w)).toEqual([[4, 0, 6, 1]])
    expect(back(viewOf([{ op: 'd4', element: dihedral4.d4(3, false) }]), [0, 0, 1, 2], h, w)).toEqual([[0, 3, 2, 4]])
    expect(back(viewOf([{ op: 'd4', element: dihedral4.d4(2, false) }]), [0, 0, 1, 2], h, w)).toEqual([[5, 2, 6, 4]])
  })

  it('every element of D4: the box a detector finds on the real pixels comes back to the true box', () => {
    const truth: Corners = [1, 0, 4, 3]
    const image = rectangle(h, w, truth)
    for (const v of runnableViews(aliases.d4())) {
      const seen = orThrow(v.augmentImage(image))
      const [, , vh, vw] = seen.shape
      const found = litBox(seen.data, vh, vw)
      expect(found).toBeDefined()
      if (found !== undefined) expect(back(v.spec, found, h, w), v.spec.name).toEqual([truth])
    }
  })
})

describe('scales and resizes', () => {
  it('scale 0.5 of a 5x7 image is 2x3 (trunc): boxes come back by the size ratio per axis', () => {
    const [, half] = views(product(orThrow(T.scale([0.5]))))
    expect(back(half!, [1, 1, 2, 2], 5, 7)).toEqual([[7 / 3, 2.5, 14 / 3, 5]])
  })

  it('resize to 8x3 of a 4x6 image, then a quarter turn', () => {
    const v = viewOf([{ op: 'resample', target: { by: 'size', height: 8, width: 3 }, mode: 'bilinear', alignCorners: false }, { op: 'd4', element: dihedral4.d4(1, false) }])
    // the view is 3x8; view (x, y) ← resized (3 − y, x) ← input ×(6/3, 4/8)
    expect(back(v, [0, 0, 8, 1], 4, 6)).toEqual([[4, 0, 6, 4]])
  })

  it('a scaled view in normalised coordinates: nothing moves', () => {
    const [, twice] = views(product(orThrow(T.scale([2]))))
    expect(back(twice!, [0.25, 0.5, 0.75, 1], 3, 5, { coordinates: 'normalized' })).toEqual([[0.25, 0.5, 0.75, 1]])
  })
})

describe('crops and tiles shift back by their offset', () => {
  it('each of the five crops of 2x3 on a 4x6 image', () => {
    const specs = views(orThrow(aliases.fiveCrop(2, 3)))
    const offsets = specs.map((s) => back(s, [0, 0, 1, 1], 4, 6)[0]?.slice(0, 2))
    // crop_lt, crop_lb, crop_rb, crop_rt, center_crop as [left, top]
    expect(offsets).toEqual([[0, 0], [0, 2], [3, 2], [3, 0], [2, 1]])
  })

  it('tiles: a 2x3 grid of 4x4 tiles on a 6x10 image starts at x = 0, 3, 6 and y = 0, 2', () => {
    const specs = views(orThrow(aliases.tiles(4, 4, { rows: 2, cols: 3 })))
    expect(specs.map((s) => back(s, [0, 0, 0, 0], 6, 10)[0]?.slice(0, 2))).toEqual([[0, 0], [3, 0], [6, 0], [0, 2], [3, 2], [6, 2]])
    expect(specs.map((s) => orThrow(boxMaps(s.steps, 6, 10)).window)).toEqual([
      [0, 0, 4, 4], [3, 0, 7, 4], [6, 0, 10, 4], [0, 2, 4, 6], [3, 2, 7, 6], [6, 2, 10, 6]])
  })

  it('a box hanging over the crop comes back clipped to the crop window', () => {
    const [lt] = views(orThrow(aliases.fiveCrop(2, 3)))
    expect(back(lt!, [-1, 1, 5, 4], 4, 6)).toEqual([[0, 1, 3, 2]])
  })

  it("cutBoxes: 'drop' drops boxes on a tile's inner border, not on the image's own edge", () => {
    const specs = views(orThrow(aliases.tiles(4, 4, { rows: 1, cols: 2 })))   // 4x6 image: tiles at x = 0 and 2
    const [left, right] = specs
    const touchingInner = one([2, 1, 4, 3])    // right side on the left tile's x = 4 (inside the image)
    const touchingOuter = one([0, 1, 2, 3])    // left side on the image's edge
    expect(orThrow(deaugmentBoxesData(left!, touchingInner, 4, 6, { cutBoxes: 'drop' })).boxes).toEqual([])
    expect(orThrow(deaugmentBoxesData(left!, touchingInner, 4, 6, { cutBoxes: 'keep' })).boxes).toEqual([[2, 1, 4, 3]])
    expect(orThrow(deaugmentBoxesData(left!, touchingOuter, 4, 6, { cutBoxes: 'drop' })).boxes).toEqual([[0, 1, 2, 3]])
    // the right tile (x 2..6): its left side is inner, its right side the image's edge
    expect(orThrow(deaugmentBoxesData(right!, touchingOuter, 4, 6, { cutBoxes: 'drop' })).boxes).toEqual([])
    expect(orThrow(deaugmentBoxesData(right!, one([2, 1, 4, 3]), 4, 6, { cutBoxes: 'drop' })).boxes).toEqual([[4, 1, 6, 3]])
  })
})

describe('translate', () => {
  const shifted = (dy: number, dx: number, fill: 'zeros' | 'edge' = 'zeros') => viewOf([{ op: 'translate', dy, dx, fill }])

  it('shifts back, clips to what the view kept, drops boxes wholly in the fill', () => {
    // content moved right by 2: view x in [0, 2) is fill, input x in [4, 6) left the frame
    expect(back(shifted(0, 2), [3, 1, 5, 2], 4, 6)).toEqual([[1, 1, 3, 2]])
    expect(back(shifted(0, 2), [0, 1, 3, 2], 4, 6)).toEqual([[0, 1, 1, 2]])   // part in the fill, clipped
    expect(back(shifted(0, 2), [0, 1, 1.5, 2], 4, 6)).toEqual([])             // wholly in the fill
    expect(orThrow(boxMaps(shifted(1, -2).steps, 4, 6)).window).toEqual([2, 0, 6, 3])
  })

  it('a shift by the whole image or more is refused before any box moves', () => {
    const r = boxMaps(shifted(0, 6).steps, 4, 6)
    expect(E.isLeft(r) && r.left.message).toMatch(/moves a 4x6 image entirely out of the frame/)
    // One pixel less, and the view shows one column: a box there comes back, others are dropped.
    expect(orThrow(boxMaps(shifted(0, 5).steps, 4, 6)).window).toEqual([0, 0, 1, 4])
    expect(back(shifted(0, 5), [5, 0, 6, 4], 4, 6)).toEqual([[0, 0, 1, 4]])
  })
})

describe('custom transforms', () => {
  const transpose = (points: boolean) => custom({
    name: 'transpose',
    forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'W', 'H'], source: (i, j) => [j, i] },
    backward: { from: ['N', 'C', 'W', 'H'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [j, i] },
    ...(points ? { points: { forward: (x: number, y: number) => [y, x] as const, backward: (x: number, y: number) => [y, x] as const } } : {}),
  })

  it('with a point map, boxes move by it (between the two sizes)', () => {
    const [, t] = views(product(orThrow(transpose(true))))
    expect(back(t!, [0, 1, 3, 2], 4, 6)).toEqual([[1, 0, 2, 3]])
    expect(orThrow(transpose(true)).undoes).toContain('boxes')
  })

  it('without one, boxes cannot come back: an UndoError', () => {
    const [, t] = views(product(orThrow(transpose(false))))
    const r = deaugmentBoxesData(t!, one([0, 1, 3, 2]), 4, 6)
    expect(E.isLeft(r) && r.left._tag === 'UndoError' && r.left.message).toMatch(/'transpose' declares no point map/)
    expect(orThrow(transpose(false)).undoes).not.toContain('boxes')
  })
})

describe('coordinates and checks', () => {
  it('normalised boxes come back normalised to the input, through a turn of a non-square frame', () => {
    const [, turned] = views(aliases.d4())   // rot90: the view is 6x4
    // view box [0, 0, 1, 2] in pixels is [0, 0, 1/4, 2/6] normalised; it came from [4, 0, 6, 1] of 4x6
    const got = back(turned!, [0, 0, 0.25, 2 / 6], 4, 6, { coordinates: 'normalized' })
    const want = [4 / 6, 0, 1, 1 / 4]
    got[0]?.forEach((v, k) => expect(v).toBeCloseTo(want[k] ?? Number.NaN, 12))
  })

  it("'normalized' with pixel-sized numbers is a BoxError that says so", () => {
    const [, mirror] = views(aliases.hflip())
    const r = deaugmentBoxesData(mirror!, one([10, 20, 30, 40]), 40, 60, { coordinates: 'normalized' })
    expect(E.isLeft(r) && r.left._tag === 'BoxError' && r.left.message).toMatch(/coordinates: 'pixels'/)
  })

  it("runnableViews' deaugmentBoxes checks its input first (untyped callers)", () => {
    const [, mirror] = runnableViews(aliases.hflip())
    const image = orThrow(tensor([1, 1, 4, 6], new Array(24).fill(0)))
    const bad: unknown = { boxes: [[3, 0, 1, 2]], scores: [0.5], labels: [0] }
    // @ts-expect-error an untyped value
    const r = mirror!.deaugmentBoxes(bad, image)
    expect(E.isLeft(r) && r.left.message).toMatch(/view 'HorizontalFlip\(true\)': box 0 has x2 = 1 < x1 = 3/)
    expect(orThrow(mirror!.deaugmentBoxes(one([0, 1, 2, 3]), image))).toEqual({ boxes: [[4, 1, 6, 3]], scores: [0.75], labels: [2] })
  })
})
