/**
 * The three wrappers end to end on real ONNX models (spec/fixtures/models, made by
 * tools/models/make_test_models.py with the fixed weights of ttach's reference outputs), on every
 * backend, compared with ttach's recorded wrapper outputs.
 */
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { aliases, orThrow, tensor, wrap, type BackendName, type MergeMode } from '../../src/index.js'
import { onnx } from '../../src/node.js'

const models = new URL('../fixtures/models/', import.meta.url)
const path = (name: string): string => new URL(name, models).pathname
const golden: unknown = JSON.parse(readFileSync(new URL('../fixtures/ttach_public.json', import.meta.url), 'utf8'))

/** Just enough reading of the golden file for these cases. */
const goldenCase = (wrapper: string, model: string, compose: string, merge: MergeMode): readonly number[] => {
  if (typeof golden !== 'object' || golden === null || !('wrapper_cases' in golden) || !Array.isArray(golden.wrapper_cases)) throw new Error('golden file unreadable')
  const found: unknown = golden.wrapper_cases.find((c: unknown) => typeof c === 'object' && c !== null && 'wrapper' in c && c.wrapper === wrapper && 'model' in c && c.model === model &&
    'compose' in c && c.compose === compose && 'merge_mode' in c && c.merge_mode === merge && 'out' in c)
  if (typeof found !== 'object' || found === null || !('out' in found) || typeof found.out !== 'object' || found.out === null || !('data' in found.out) || !Array.isArray(found.out.data)) {
    throw new Error(`no golden case ${wrapper}/${model}/${compose}/${merge}`)
  }
  return found.out.data.map(Number)
}
const imgSq = (): ReturnType<typeof tensor<readonly [2, 3, 8, 8]>> => {
  if (typeof golden !== 'object' || golden === null || !('inputs' in golden) || typeof golden.inputs !== 'object' || golden.inputs === null || !('img_sq' in golden.inputs)) throw new Error('no img_sq')
  const img: unknown = golden.inputs.img_sq
  if (typeof img !== 'object' || img === null || !('data' in img) || !Array.isArray(img.data)) throw new Error('no img_sq data')
  return tensor([2, 3, 8, 8], img.data.map(Number))
}
const maxDiff = (a: ArrayLike<number>, b: readonly number[]): number => b.reduce((m, v, i) => Math.max(m, Math.abs((a[i] ?? Number.NaN) - v)), 0)

const seg = await onnx.load(path('seg_conv1x1_sigmoid.onnx'), { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { mask: ['N', 2, 'H', 'W'] }, threads: 1 })()
const cls = await onnx.load(path('cls_gap_softmax.onnx'), { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { probs: ['N', 5] }, threads: 1 })()
const kp = await onnx.load(path('kp_softargmax.onnx'), { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { keypoints: ['N', 8] }, threads: 1 })()

describe('wrappers on ONNX models match ttach', () => {
  const image = orThrow(imgSq())
  const segModel = orThrow(seg)
  const clsModel = orThrow(cls)
  const kpModel = orThrow(kp)
  afterAll(async () => { await Promise.all([segModel.release(), clsModel.release(), kpModel.release()]) })

  const backends: readonly BackendName[] = ['js', 'reference', 'gpujs']
  const merges: readonly Exclude<MergeMode, 'vote'>[] = ['mean', 'gmean', 'max', 'tsharpen']
  for (const backend of backends) {
    for (const merge of merges) {
      it(`segmentation · d4 · ${merge} · ${backend}`, async () => {
        const out = orThrow(await wrap.segmentation(segModel, aliases.d4(), { merge, backend }).run(image)())
        expect(out.shape).toEqual([2, 2, 8, 8])
        expect(maxDiff(out.data, goldenCase('SegmentationTTAWrapper', 'seg_conv1x1_sigmoid', 'd4', merge))).toBeLessThan(2e-6)
      })
      it(`classification · ten-crop 5×5 · ${merge} · ${backend}`, async () => {
        const out = orThrow(await wrap.classification(clsModel, orThrow(aliases.tenCrop(5, 5)), { merge, backend }).run(image)())
        expect(maxDiff(out.data, goldenCase('ClassificationTTAWrapper', 'cls_gap_softmax', 'ten_crop_5x5', merge))).toBeLessThan(2e-6)
      })
      it(`keypoints · d4 · ${merge} · ${backend}`, async () => {
        const out = orThrow(await wrap.keypoints(kpModel, aliases.d4(), { merge, backend, coordinates: 'normalized' }).run(image)())
        expect(maxDiff(out.data, goldenCase('KeypointsTTAWrapper', 'kp_softargmax_scaled', 'd4', merge))).toBeLessThan(2e-6)
      })
    }
  }
})

describe('model signatures are checked before any data is touched', () => {
  let fixed8x12: Awaited<ReturnType<typeof loadFixed>> | undefined
  const loadFixed = () => onnx.load(path('seg_fixed_1x3x8x12.onnx'), { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { mask: ['N', 2, 'H', 'W'] } })()
  beforeAll(async () => { fixed8x12 = await loadFixed() })

  it('a fixed 8×12 model refuses the 90° views of d4 in the dry run, and takes hflip one view per call', async () => {
    const model = orThrow(fixed8x12 ?? E.left({ _tag: 'ModelError', message: 'not loaded' }))
    expect(model.signature).toEqual({ input: [1, 3, 8, 12], output: [1, 2, 8, 12], maxBatch: 1 })
    const image = orThrow(tensor([1, 3, 8, 12], new Float32Array(288).fill(0.25)))
    const turned = await wrap.segmentation(model, aliases.d4()).run(image)()
    expect(E.isLeft(turned) && turned.left.message).toMatch(/view Rotate90\(90\) gives a model input of \[1,3,12,8\], which does not fit the model's input \[1,3,8,12\]/)
    const flipped = wrap.segmentation(model, aliases.hflip())
    const plan = orThrow(flipped.plan(image))
    expect(plan.chunks.map((c) => c.input)).toEqual([[1, 3, 8, 12], [1, 3, 8, 12]])
    expect(E.isRight(await flipped.run(image)())).toBe(true)
    const batchOfTwo = await flipped.run(orThrow(tensor([2, 3, 8, 12], new Float32Array(576))))()
    expect(E.isLeft(batchOfTwo) && batchOfTwo.left.message).toBe('the model takes at most 1 image per call, but the batch has 2')
  })

  it('a declared signature that disagrees with the file, a missing file and a corrupt file are ModelErrors', async () => {
    const wrongChannels = await onnx.load(path('seg_conv1x1_sigmoid.onnx'), { inputs: { image: ['N', 4, 'H', 'W'] }, outputs: { mask: ['N', 2, 'H', 'W'] } })()
    expect(E.isLeft(wrongChannels) && wrongChannels.left.message).toBe("input 'image' is [N,3,H,W] in the model, but you declared [N,4,H,W]: dimension 1 is 3, not 4")
    const wrongName = await onnx.load(path('seg_conv1x1_sigmoid.onnx'), { inputs: { input: ['N', 3, 'H', 'W'] }, outputs: { mask: ['N', 2, 'H', 'W'] } })()
    expect(E.isLeft(wrongName) && wrongName.left.message).toBe("the model has no input 'input'; its inputs are image")
    const missing = await onnx.load(path('nope.onnx'), { inputs: { image: ['N'] }, outputs: { mask: ['N'] } })()
    expect(E.isLeft(missing) && missing.left.message).toMatch(/cannot read the model file .*nope.onnx.*ENOENT/)
    const corrupt = await onnx.load(new TextEncoder().encode('not a model'), { inputs: { image: ['N'] }, outputs: { mask: ['N'] } })()
    expect(E.isLeft(corrupt) && corrupt.left.message).toMatch(/not a model onnxruntime can load/)
    const untyped = await onnx.load(path('seg_conv1x1_sigmoid.onnx'), JSON.parse('{"inputs":{"image":"N,3,H,W"},"outputs":{}}'))()
    expect(E.isLeft(untyped) && untyped.left.message).toMatch(/^the model signature: inputs\.image: expected ReadonlyArray<\(number \| string\)>, got "N,3,H,W"/)
  })

  it('a two-output model: the mask picked by outputKey', async () => {
    const model = orThrow(await onnx.load(path('seg_two_outputs.onnx'), { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { mask: ['N', 2, 'H', 'W'], aux: ['N', 1] } })())
    const image = orThrow(imgSq())
    const out = orThrow(await wrap.segmentation(model, aliases.flip(), { outputKey: 'mask', merge: 'max' }).run(image)())
    expect(out.shape).toEqual([2, 2, 8, 8])
    const withoutKey = await wrap.segmentation(model, aliases.flip()).run(image)()
    expect(E.isLeft(withoutKey) && withoutKey.left.message).toMatch(/pass outputKey/)
    await model.release()
  })
})
