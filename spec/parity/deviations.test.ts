/**
 * Where we deliberately do not copy ttach: one test per deviation, showing ttach's recorded
 * behaviour (from the golden file) next to ours. docs/ttach.md explains each one.
 *
 * parity.test.ts meets the same cases one by one; this file states each deviation once, with its
 * evidence, and adds those the public golden cases cannot show (gmean underflow, keypoints in
 * pixels after a turn of a non-square image).
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import {
  aliases, merge, orThrow, parseMergeMode, product, runnableViews, tensor, transforms as T, wrap, zeros,
  type Interpolation, type MergeMode, type Tensor,
} from '../../src/index.js'
import { resamplePlanes } from '../../src/backend/reference/resample.js'
import { goldenPath, inputOf, loadGolden, type GoldenTensor, type Op, type Param, type TransformCase } from './golden.js'
import { baseModels, weightsOf, type Input } from './models.js'
import { compare, image4, sameParams, tensorOf } from './run.js'

// The evidence quoted in docs/ttach.md is in the public cases: always the fixture, whatever TTACH_GOLDEN names.
const golden = loadGolden(goldenPath)
const models = baseModels(weightsOf(golden))

/** The golden transform case that matches (the file repeats some cases; repeats must agree). */
const only = (what: string, pick: (c: TransformCase) => boolean): TransformCase => {
  const found = golden.transform_cases.filter(pick)
  const [first] = found
  if (first === undefined) throw new Error(`${what}: no golden case`)
  const outcome = (c: TransformCase): string => JSON.stringify('out' in c ? c.out : c.error)
  if (found.some((c) => outcome(c) !== outcome(first))) throw new Error(`${what}: ${found.length} golden cases that disagree`)
  return first
}
const outOf = (c: TransformCase): GoldenTensor => {
  if (!('out' in c)) throw new Error('expected an output')
  return c.out
}
const errorOf = (c: TransformCase): string => {
  if (!('error' in c)) throw new Error('expected an error')
  return `${c.error.type}: ${c.error.message}`
}
const rotate = (angles: readonly number[], param: number, op: Op, input: string) => (c: TransformCase): boolean =>
  c.transform === 'Rotate90' && sameParams(c.ctor.angles, angles) && c.param === param && c.op === op && c.input === input
const scale = (mode: string, param: number, op: Op, input: string) => (c: TransformCase): boolean =>
  c.transform === 'Scale' && (c.ctor.interpolation ?? 'nearest') === mode && c.ctor.align_corners === undefined && c.param === param && c.op === op && c.input === input
const resize = (original: readonly [number, number] | undefined, param: Param, op: Op, input: string) => (c: TransformCase): boolean =>
  c.transform === 'Resize' && (c.ctor.interpolation ?? 'nearest') === 'nearest' &&
  (original === undefined ? c.ctor.original_size === undefined : c.ctor.original_size !== undefined && sameParams(c.ctor.original_size, original)) &&
  sameParams([c.param], [param]) && c.op === op && c.input === input

/** The error tag of an `Either` whose type the checker lost (the result of a call that does not compile). */
const leftTag = (u: unknown): string | undefined =>
  typeof u === 'object' && u !== null && '_tag' in u && u._tag === 'Left' && 'left' in u &&
  typeof u.left === 'object' && u.left !== null && '_tag' in u.left && typeof u.left._tag === 'string'
    ? u.left._tag
    : undefined

const img = image4(inputOf(golden, 'img_sq'))
const kp = tensorOf(inputOf(golden, 'kp'))
const quarterTurns = [0, 90, 180, 270]

describe('Rotate90 by an angle that is not a right angle', () => {
  it('is a ParamError at construction (and a compile error for a literal), where ttach turns masks and keypoints but not the image', () => {
    // @ts-expect-error -- a literal 45° does not compile: "Rotate90 turns by multiples of 90°, and 45° is not one"
    expect(E.isLeft(T.rotate90([45]))).toBe(true)
    const angles: number[] = [45, 135]
    const ours = T.rotate90(angles)
    expect(E.isLeft(ours) && ours.left._tag === 'ParamError' && ours.left.message.includes('45°')).toBe(true)

    // ttach: augment_image(angle=45) uses k = 45 // 90 = 0 (no turn), but deaugment_mask turns by
    // k = (360 - 45) // 90 = 3: a 6×10 mask of the unturned image comes back 10×6.
    const mask45 = outOf(only('mask 45', rotate([45, 135], 45, 'deaugment_mask', 'mask_2x2x6x10')))
    expect(mask45.shape).toEqual([2, 2, 10, 6])
    // …and its keypoints are undone like a 90° turn (135° like 180°, though its image turns by 90°).
    expect(outOf(only('kp 45', rotate([45, 135], 45, 'deaugment_keypoints', 'kp'))).data)
      .toEqual(outOf(only('kp 90', rotate(quarterTurns, 90, 'deaugment_keypoints', 'kp'))).data)
    expect(outOf(only('kp 135', rotate([45, 135], 135, 'deaugment_keypoints', 'kp'))).data)
      .toEqual(outOf(only('kp 180', rotate(quarterTurns, 180, 'deaugment_keypoints', 'kp'))).data)
  })
})

describe('Rotate90 by ±450°', () => {
  it('turns keypoints back like ±90°, where ttach raises', () => {
    const all = [-90, -180, -270, 360, 450, -450]
    expect(errorOf(only('kp 450', rotate(all, 450, 'deaugment_keypoints', 'kp')))).toBe('ValueError: Parameter k must be in [0:3]')
    expect(errorOf(only('kp -450', rotate(all, -450, 'deaugment_keypoints', 'kp')))).toBe('ValueError: Parameter k must be in [0:3]')

    const [, v450, vMinus450] = runnableViews(orThrow(aliases.rotate90([450, -450])))
    if (v450 === undefined || vMinus450 === undefined) throw new Error('two views expected')
    expect(v450.spec.params).toEqual([450])
    const turned = orThrow(v450.augmentImage(img))
    expect(compare('450 image', turned, outOf(only('image 90', rotate(quarterTurns, 90, 'augment_image', 'img_sq'))), 'exact').kind).toBe('exact')
    expect(compare('450 kp', orThrow(v450.deaugmentKeypoints(kp)), outOf(only('kp 90', rotate(quarterTurns, 90, 'deaugment_keypoints', 'kp'))), 'exact').kind).toBe('exact')
    expect(compare('-450 kp', orThrow(vMinus450.deaugmentKeypoints(kp)), outOf(only('kp 270', rotate(quarterTurns, 270, 'deaugment_keypoints', 'kp'))), 'exact').kind).toBe('exact')
  })
})

describe('Scale when h·k is not an integer', () => {
  const modes: readonly Interpolation[] = ['nearest', 'bilinear']
  for (const mode of modes) {
    it(`restores the input size (${mode}: 6×10 at 0.75 → 4×7 → 6×10), where ttach gives 5×9`, () => {
      const theirs = outOf(only('mask 0.75', scale(mode, 0.75, 'deaugment_mask', 'mask_2x2x4x7')))
      expect(theirs.shape).toEqual([2, 2, 5, 9])

      const [, view] = runnableViews(product(orThrow(T.scale([0.75], { interpolation: mode }))))
      if (view === undefined) throw new Error('a view expected')
      const rect = orThrow(zeros([2, 3, 6, 10]))
      expect(orThrow(view.augmentImage(rect)).shape).toEqual([2, 3, 4, 7])
      const mask = inputOf(golden, 'mask_2x2x4x7')
      const back = orThrow(view.deaugmentMask(image4(mask), rect))
      expect(back.shape).toEqual([2, 2, 6, 10])
      // The values: a plain resample of the 4×7 mask to 6×10 with the same interpolation.
      expect(Array.from(back.data)).toEqual(Array.from(resamplePlanes(Float32Array.from(mask.data), 4, 4, 7, 6, 10, mode, false)))
    })
  }
})

describe('Resize without original_size', () => {
  it('restores the input size, as ttach does when given original_size; ttach raises without it', () => {
    expect(errorOf(only('no original', resize(undefined, [4, 4], 'deaugment_mask', 'mask_2x2x4x4')))).toBe('ValueError: Provide original image size to make mask backward transformation')
    const views = runnableViews(product(orThrow(T.resize([[4, 4], [12, 12]]))))
    expect(views.map((v) => v.spec.params)).toEqual([[[4, 4]], [[12, 12]]]) // no identity view without original_size, as in ttach
    const [small] = views
    if (small === undefined) throw new Error('a view expected')
    const back = orThrow(small.deaugmentMask(image4(inputOf(golden, 'mask_2x2x4x4')), img))
    const told = outOf(only('with original', resize([8, 8], [4, 4], 'deaugment_mask', 'mask_2x2x4x4')))
    expect(compare('resize mask', back, told, 'exact').kind).toBe('exact')
  })
})

describe('interpolation names and options PyTorch refuses for images', () => {
  it("'linear' is a compile error and a ParamError; ttach fails at the first augment", () => {
    expect(errorOf(only('linear', (c) => c.transform === 'Scale' && c.ctor.interpolation === 'linear' && c.param === 2 && c.op === 'augment_image')))
      .toBe('NotImplementedError: Got 4D input, but linear mode needs 3D input')
    // @ts-expect-error -- 'linear' is not an Interpolation (PyTorch's 'linear' is 1-D)
    const linear = T.scale([2], { interpolation: 'linear' })
    expect(E.isLeft(linear) && linear.left._tag === 'ParamError' && linear.left.message.includes("use 'bilinear'")).toBe(true)
  })

  it('nearest with alignCorners is a ParamError; ttach fails at the first augment', () => {
    expect(errorOf(only('align', (c) => c.transform === 'Scale' && c.ctor.align_corners === true && c.ctor.interpolation === 'nearest' && c.param === 2 && c.op === 'augment_image')))
      .toMatch(/^ValueError: align_corners option can only be set with the interpolating modes/)
    const nearest = T.scale([2], { interpolation: 'nearest', alignCorners: true })
    expect(E.isLeft(nearest) && nearest.left._tag === 'ParamError').toBe(true)
  })
})

describe('gmean and tsharpen of negative values', () => {
  const mixed = golden.merger_cases.filter((c) => c.sequence === 'mixed_sign_n3')
  const items = mixed[0]?.items ?? []
  const tensors = items.map((item) => orThrow(tensor([item.length], item)))
  const [a, ...rest] = tensors

  it('are a MergeError, where ttach returns NaN or a positive "mean" of mostly negative values', () => {
    if (a === undefined) throw new Error('items expected')
    const gmean = mixed.find((c) => c.merge_mode === 'gmean')
    const tsharpen = mixed.find((c) => c.merge_mode === 'tsharpen')
    // ttach: gmean of (-1, -4, 2) is ∛8 = 2; of (0.5, -0.5, 0.25) NaN; tsharpen is NaN wherever a value is negative.
    expect(gmean && 'out' in gmean ? gmean.out.data : undefined).toEqual([2, 2, Number.NaN, 0])
    expect(tsharpen && 'out' in tsharpen ? tsharpen.out.data : undefined).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN])
    const refused: readonly MergeMode[] = ['gmean', 'tsharpen']
    for (const mode of refused) {
      const ours = merge(mode, [a, ...rest])
      expect(E.isLeft(ours) && ours.left._tag === 'MergeError' && ours.left.message.includes('non-negative')).toBe(true)
    }
    expect(E.isRight(merge('mean', [a, ...rest]))).toBe(true)
  })

  it('gmean is taken in log space: 48 views of 1e-8 give 1e-8, where a product of raw values underflows to 0', () => {
    const small = orThrow(tensor([1], [1e-8]))
    const many: [Tensor<readonly [1]>, ...Tensor<readonly [1]>[]] = [small, ...Array.from({ length: 47 }, () => small)]
    expect(1e-8 ** 48).toBe(0) // ttach: output = Π x, then ** (1/n)
    const ours = orThrow(merge('gmean', many))
    expect(Math.abs((ours.data[0] ?? 0) - Math.fround(1e-8)) / 1e-8).toBeLessThan(1e-6)
  })
})

describe('an unknown merge mode', () => {
  it("('median') is a MergeError from parseMergeMode and merge, a ParamError from a wrapper, a compile error for typed callers", () => {
    const theirs = golden.merger_cases.find((c) => c.merge_mode === 'median')
    expect(theirs && 'error' in theirs ? `${theirs.error.type}: ${theirs.error.message}` : undefined).toBe('ValueError: Not correct merge type `median`.')
    const parsed = parseMergeMode('median')
    expect(E.isLeft(parsed) && parsed.left._tag === 'MergeError').toBe(true)
    const one = orThrow(tensor([2], [1, 2]))
    // @ts-expect-error -- 'median' is not a MergeMode
    const merged = merge('median', [one, one])
    expect(E.isLeft(merged) && merged.left._tag === 'MergeError').toBe(true)
  })

  it('reaches a wrapper as a ParamError', async () => {
    const cls = async (x: Input) => models.cls_gap_softmax(x)
    // @ts-expect-error -- 'median' is not a MergeMode
    const tta = wrap.classification(cls, aliases.hflip(), { merge: 'median' })
    const result = await tta.run(img)()
    expect(E.isLeft(result) && result.left._tag === 'ParamError').toBe(true)
  })
})

describe('FiveCrops for masks and keypoints', () => {
  const crops = orThrow(aliases.fiveCrop(5, 5))
  const seg = async (x: Input) => models.seg_conv1x1_sigmoid(x)
  const kpModel = async (x: Input) => models.kp_softargmax_scaled(x)

  it('has no deaugmentMask / deaugmentKeypoints in the view type; untyped callers get an UndoError; ttach raises', () => {
    expect(errorOf(only('crop mask', (c) => c.transform === 'FiveCrops' && c.ctor.crop_height === 5 && c.param === 'crop_lt' && c.op === 'deaugment_mask')))
      .toBe('ValueError: `FiveCrop` augmentation is not suitable for mask!')
    const [view] = runnableViews(crops)
    if (view === undefined) throw new Error('a view expected')
    expect(view.deaugmentLabel(tensorOf(inputOf(golden, 'labels'))).data).toEqual(Float32Array.from(inputOf(golden, 'labels').data))
    // @ts-expect-error -- FiveCrops views cannot put a mask back into the full frame
    const mask: unknown = view.deaugmentMask(image4(inputOf(golden, 'mask_2x2x5x5')), img)
    expect(leftTag(mask)).toBe('UndoError')
    // @ts-expect-error -- nor keypoints
    const points: unknown = view.deaugmentKeypoints(kp)
    expect(leftTag(points)).toBe('UndoError')
  })

  it('does not compile in a segmentation or keypoints wrapper, and fails with an UndoError at run time', async () => {
    // @ts-expect-error -- "FiveCrops cannot put a mask back into the full frame"
    const masks = await wrap.segmentation(seg, crops, { merge: 'mean' }).run(img)()
    expect(E.isLeft(masks) && masks.left._tag === 'UndoError').toBe(true)
    // @ts-expect-error -- "FiveCrops cannot put keypoints back into the full frame"
    const points = await wrap.keypoints(kpModel, crops, { merge: 'mean', coordinates: 'normalized' }).run(img)()
    expect(E.isLeft(points) && points.left._tag === 'UndoError').toBe(true)
    // Labels are fine, as in ttach (wrapper_cases checks the values).
    const labels = await wrap.classification(async (x: Input) => models.cls_gap_softmax(x), crops).run(img)()
    expect(E.isRight(labels)).toBe(true)
  })
})

describe('keypoints in pixels after a quarter turn of a non-square image', () => {
  it("are normalised by the view's size (ttach's scaled=False uses the input's and lands elsewhere)", async () => {
    // A 2×3 image whose brightest pixel is row 0, column 2: the keypoint is (x, y) = (2.5, 0.5) in pixels.
    const image = orThrow(tensor([1, 1, 2, 3], [0, 0, 9, 0, 0, 0]))
    const brightest = async (x: Tensor<readonly [1, 1, 'H', 'W']>) => {
      const [, , , w] = x.shape
      const k = x.data.indexOf(Math.max(...x.data))
      return orThrow(tensor([1, 2], [(k % w) + 0.5, Math.floor(k / w) + 0.5]))
    }
    const turns = orThrow(aliases.rotate90([90]))
    const ours = orThrow(await wrap.keypoints(brightest, turns, { merge: 'mean' }).run(image)())
    expect(Array.from(ours.data)).toEqual([2.5, 0.5])

    // ttach (scaled=False): divide by the input's (W, H) = (3, 2), undo the turn (keypoints_rot90 k=3:
    // (x, y) → (1 − y, x)), multiply by (3, 2) — for the 90° view, whose frame is 3 high and 2 wide.
    const [, turned] = runnableViews(turns)
    if (turned === undefined) throw new Error('a view expected')
    const [px = 0, py = 0] = (await brightest(orThrow(turned.augmentImage(image)))).data
    const [nx, ny] = [px / 3, py / 2]
    const theirs = [(1 - ny) * 3, nx * 2]
    expect(theirs).not.toEqual([2.5, 0.5])
    // Merged with the identity view's (2.5, 0.5): ttach's mean is (2.375, 0.41667).
    const mean = [(2.5 + (theirs[0] ?? 0)) / 2, (0.5 + (theirs[1] ?? 0)) / 2]
    expect(mean[0]).toBeCloseTo(2.375, 12)
    expect(mean[1]).toBeCloseTo(5 / 12, 12)
  })
})
