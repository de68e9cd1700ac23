/**
 * The shipped policy files were chosen on the selection half only (issue 8: "no evaluation data in
 * selection"): each records its source and item count, and the single-pass numbers it recorded
 * are what the bundled model scores on the selection half — not on the evaluation half, and not
 * on the whole test set, which would differ. The detection policy decodes and names its pool.
 */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { decodeDetectionPolicy, decodeIndexSplit, decodeNameSplit, decodePolicy, orThrow, tensor } from '../../src/index.js'
import { onnx } from '../../src/node.js'
import { readIdx } from '../../src/io/idx.js'

const assets = new URL('../../assets/', import.meta.url).pathname
const json = async (path: string): Promise<unknown> => JSON.parse(await readFile(`${assets}${path}`, 'utf8'))

describe('the shipped Fashion-MNIST policies saw only the selection half', () => {
  it.each(['cnn_aug', 'cnn_plain'])('%s: the recorded single-pass accuracy is the selection half\'s, not the evaluation half\'s', async (name) => {
    const policy = orThrow(decodePolicy(await json(`fashion-mnist/policy-${name}.json`)))
    const images = orThrow(await readIdx(`${assets}fashion-mnist/t10k-images-idx3-ubyte.gz`))
    const labels = orThrow(await readIdx(`${assets}fashion-mnist/t10k-labels-idx1-ubyte.gz`))
    const split = orThrow(decodeIndexSplit(await json('fashion-mnist/split.json'), labels.data.length))
    expect(policy.file.selection?.source).toBe('assets/fashion-mnist/split.json#selection')
    expect(policy.file.selection?.items).toBe(split.selection.length)
    expect(policy.file.model.name).toBe(`${name}.onnx`)
    const model = orThrow(await onnx.open(`${assets}fashion-mnist/${name}.onnx`, { threads: 2 })())
    const accuracyOn = async (indices: readonly number[]): Promise<number> => {
      const pixels = new Float32Array(indices.length * 784)
      indices.forEach((i, k) => { for (let p = 0; p < 784; p++) pixels[k * 784 + p] = (images.data[i * 784 + p] ?? 0) / 255 })
      const out = await model(orThrow(tensor([indices.length, 1, 28, 28], pixels)))
      let right = 0
      indices.forEach((i, k) => {
        let best = 0
        for (let c = 1; c < 10; c++) if ((out.data[k * 10 + c] ?? 0) > (out.data[k * 10 + best] ?? 0)) best = c
        if (best === labels.data[i]) right++
      })
      return right / indices.length
    }
    const selection = await accuracyOn(split.selection)
    const evaluation = await accuracyOn(split.evaluation)
    await model.release()
    // The halves differ by more than rounding, so a search run on the wrong half would be caught.
    expect(Math.abs(selection - evaluation)).toBeGreaterThan(0.001)
    expect(policy.file.selection?.baseline.accuracy).toBeCloseTo(selection, 9)
  }, 300_000) // about 2 s on a quiet machine (two passes over 5,000 images); generous for a shared one
})

describe('the shipped text-detection policy', () => {
  it('decodes, was searched on the 40 selection images with the 1.5× single view in its pool, and says how to regenerate it', async () => {
    const policy = orThrow(decodeDetectionPolicy(await json('textdet/policy.json')))
    const split = orThrow(decodeNameSplit(await json('textdet/split.json')))
    expect(policy.selection?.items).toBe(split.selection.length)
    expect(policy.search?.pool).toContain('scale 1.5')
    expect(policy.search?.pool[0]).toBe('identity')
    expect(policy.search?.command).toMatch(/tools\/policy\/search_textdet\.ts/)
    // The chosen score is the last step's, and no step lowered it.
    const steps = policy.search?.steps ?? []
    for (let k = 2; k < steps.length; k++) expect(steps[k]?.score ?? 0).toBeGreaterThan(steps[k - 1]?.score ?? 1)
    expect(policy.selection?.score).toBe(steps[steps.length - 1]?.score)
    expect(policy.selection?.score ?? 0).toBeGreaterThanOrEqual(policy.selection?.baseline ?? 1)
  })
})
