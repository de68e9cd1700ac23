import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { aliases, orThrow, tensor, wrap, type Tensor } from '../../src/index.js'

// Distinct values, so every image has a unique brightest pixel.
const image = orThrow(tensor([2, 1, 3, 5], Array.from({ length: 30 }, (_, k) => (k * 7) % 31)))
const identityModel = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => x

/** Brightest pixel of each image, in pixels: (column + 0.5, row + 0.5). */
const brightest = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
  const [n, , h, w] = x.shape
  const out: number[] = []
  for (let b = 0; b < n; b++) {
    const plane = Array.from(x.data.subarray(b * h * w, (b + 1) * h * w))
    const k = plane.indexOf(Math.max(...plane))
    out.push((k % w) + 0.5, Math.floor(k / w) + 0.5)
  }
  return orThrow(tensor([n, 2], out))
}

describe('wrappers on non-square images', () => {
  it('segmentation over d4 with a model that echoes its input gives back the image exactly', async () => {
    const out = orThrow(await wrap.segmentation(identityModel, aliases.d4(), { merge: 'mean' }).run(image)())
    expect(out.shape).toEqual([2, 1, 3, 5])
    expect(Array.from(out.data)).toEqual(Array.from(image.data))
  })

  it('keypoints in pixels come back right after 90° turns of a non-square image (ttach normalises by the wrong size)', async () => {
    const single = await brightest(image)
    const tta = orThrow(await wrap.keypoints(brightest, aliases.d4(), { coordinates: 'pixels' }).run(image)())
    expect(Array.from(tta.data)).toEqual(Array.from(single.data))
  })

  it('keypoints in normalised coordinates come back right too', async () => {
    const normalised = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => {
      const [, , h, w] = x.shape
      const px = await brightest(x)
      return orThrow(tensor(px.shape, Array.from(px.data, (v, i) => (i % 2 === 0 ? v / w : v / h))))
    }
    const tta = orThrow(await wrap.keypoints(normalised, aliases.d4(), { coordinates: 'normalized' }).run(image)())
    const px = await brightest(image)
    expect(Array.from(tta.data)).toEqual(Array.from(px.data, (v, i) => Math.fround(i % 2 === 0 ? v / 5 : v / 3)))
  })

  it('passes extra arguments through to the model unchanged (ttach issue #22)', async () => {
    const seen: unknown[] = []
    const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>, offset: number, tag: string) => {
      seen.push([offset, tag])
      return orThrow(tensor(x.shape, Array.from(x.data, (v) => v + offset)))
    }
    const out = orThrow(await wrap.segmentation(model, aliases.hflip()).run(image, 0.5, 'extra')())
    expect(seen).toEqual([[0.5, 'extra']]) // both views share one batched call
    expect(out.data[0]).toBe((image.data[0] ?? 0) + 0.5)
    seen.length = 0
    orThrow(await wrap.segmentation(model, aliases.hflip(), { batch: false }).run(image, 0.25, 'x')())
    expect(seen).toEqual([[0.25, 'x'], [0.25, 'x']]) // ttach's way: one call per view
  })

  it('batches views of one size into one call, and splits by size and budget', async () => {
    const batches: string[] = []
    const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => { batches.push(x.shape.join('x')); return x }
    orThrow(await wrap.segmentation(model, aliases.d4()).run(image)())
    expect(batches).toEqual(['8x1x3x5', '8x1x5x3']) // 4 views × 2 images per view size
    batches.length = 0
    // 2 images of 1×3×5 floats: 120 B each for input and output per view; the merge holds 240 B.
    orThrow(await wrap.segmentation(model, aliases.d4(), { budget: 120 + 240 + 2 * 240 }).run(image)())
    expect(batches).toEqual(['4x1x3x5', '4x1x3x5', '4x1x5x3', '4x1x5x3'])
    const tooSmall = await wrap.segmentation(model, aliases.d4(), { budget: '300B' }).run(image)()
    expect(E.isLeft(tooSmall) && tooSmall.left.message).toMatch(/too small for one view/)
  })

  it('picks one output of a record by key', async () => {
    const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) =>
      ({ label: orThrow(tensor([x.shape[0], 2], Array.from({ length: x.shape[0] }, (_, b) => [b % 2, 2]).flat())), aux: x })
    const out = orThrow(await wrap.classification(model, aliases.flip(), { outputKey: 'label' }).run(image)())
    expect(Array.from(out.data)).toEqual([0, 2, 1, 2])
  })
})

describe('bad input is a typed error, never a crash', () => {
  const run = <A>(p: Promise<E.Either<{ _tag: string; message: string }, A>>) => p.then((r) => (E.isLeft(r) ? r.left : undefined))

  it('a model that throws', async () => {
    const model = async (_: Tensor<readonly ['N', 1, 'H', 'W']>): Promise<Tensor<readonly [1]>> => { throw new Error('out of memory') }
    expect(await run(wrap.classification(model, aliases.hflip()).run(image)())).toMatchObject({ _tag: 'ModelError', message: "the model failed on view 'chunk [4,1,3,5]': out of memory" })
  })

  it('a model that returns something that is not a tensor, or a record without outputKey', async () => {
    // A JavaScript model: its output is whatever it returns, here plain arrays.
    const notTensor = async (_: Tensor<readonly ['N', 1, 'H', 'W']>) => JSON.parse('{"shape":[2,2],"data":[1,2,3,4]}')
    expect(await run(wrap.classification(notTensor, aliases.hflip()).run(image)())).toMatchObject({ _tag: 'ModelError', message: expect.stringMatching(/not a tensor/) })
    const record = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => ({ mask: x, aux: x })
    expect(await run(wrap.segmentation(record, aliases.hflip()).run(image)())).toMatchObject({ message: expect.stringMatching(/pass outputKey/) })
  })

  it('a segmentation model whose mask has the wrong batch or size', async () => {
    const wrongBatch = async (_: Tensor<readonly ['N', 1, 'H', 'W']>) => orThrow(tensor([1, 1, 3, 5], new Float32Array(15)))
    expect(await run(wrap.segmentation(wrongBatch, aliases.hflip()).run(image)())).toMatchObject({ _tag: 'ModelError', message: 'the model was given a batch of 4 (2 views × 2 images) but returned a batch of 1' })
    const wrongSize = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => orThrow(tensor([x.shape[0], 1, 3, 4], new Float32Array(x.shape[0] * 12)))
    expect(await run(wrap.segmentation(wrongSize, aliases.hflip()).run(image)())).toMatchObject({ _tag: 'ShapeError', message: "a segmentation model must return [N,K,3,5] for view 'identity', but gave [4,1,3,4]" })
  })

  it('a model that returns NaN', async () => {
    const nan = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => ({ shape: [x.shape[0], 2], data: Float32Array.from({ length: 2 * x.shape[0] }, (_, k) => (k === 3 ? Number.NaN : k)) })
    expect(await run(wrap.classification(nan, aliases.hflip()).run(image)())).toMatchObject({ _tag: 'NonFiniteError', message: "view 'identity' has NaN at index 3 in the model output", index: 3 })
  })

  it('a wrong-rank image, a non-product and an unknown merge mode from untyped JavaScript', async () => {
    const untyped = JSON.parse('{"shape":[3,5],"data":[]}')
    expect(await run(wrap.segmentation(identityModel, aliases.hflip()).run(untyped)())).toMatchObject({ _tag: 'ShapeError', message: expect.stringMatching(/must be a tensor|rank 4/) })
    const rank3 = JSON.parse('null') ?? orThrow(tensor([1, 3, 5], new Float32Array(15)))
    expect(await run(wrap.segmentation(identityModel, aliases.hflip()).run(rank3)())).toMatchObject({ message: 'the image must be NCHW (rank 4) but has shape [1,3,5]' })
    expect(await run(wrap.segmentation(identityModel, JSON.parse('{"_tag":"Nope"}')).run(image)())).toMatchObject({ _tag: 'ParamError' })
    expect(await run(wrap.keypoints(brightest, aliases.hflip(), JSON.parse('{"merge":"vote"}')).run(image)())).toMatchObject({ message: expect.stringMatching(/'vote' does not apply here/) })
    expect(await run(wrap.classification(brightest, aliases.hflip(), JSON.parse('{"merge":"median"}')).run(image)())).toMatchObject({ message: expect.stringMatching(/unknown merge mode 'median'/) })
  })

  it('a crop larger than the image', async () => {
    const model = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => orThrow(tensor([x.shape[0], 1], new Float32Array(x.shape[0])))
    expect(await run(wrap.classification(model, orThrow(aliases.fiveCrop(4, 4))).run(image)())).toMatchObject({ message: 'FiveCrops of 4x4 does not fit inside a 3x5 image' })
  })

  it('never changes the caller\'s image', async () => {
    const before = Array.from(image.data)
    const scribbler = async (x: Tensor<readonly ['N', 1, 'H', 'W']>) => { x.data.fill(0); return x }
    await wrap.segmentation(scribbler, aliases.d4()).run(image)()
    expect(Array.from(image.data)).toEqual(before)
  })
})

describe('user code inside the pipeline', () => {
  it('a custom transform whose gather throws gives a Left, not a rejected promise', async () => {
    const { custom } = await import('../../src/index.js')
    const broken = orThrow(custom({
      name: 'broken',
      forward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: () => { throw new Error('no gather today') } },
      backward: { from: ['N', 'C', 'H', 'W'], to: ['N', 'C', 'H', 'W'], source: (i, j) => [i, j] },
    }))
    const { product } = await import('../../src/index.js')
    const result = await wrap.segmentation(identityModel, product(broken)).run(image)()
    expect(E.isLeft(result) && result.left.message).toBe('a transform failed while running: no gather today')
  })
})
