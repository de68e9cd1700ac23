/**
 * The demo's Fashion-MNIST numbers, recomputed by an independent path on a small subset: the
 * bundled CNN called directly on the images and on hand-mirrored copies (no tta-lens transforms,
 * plans or merges), logits averaged by hand, against `evaluateClassifier` with `hflip`.
 */
import { describe, expect, it } from 'vitest'
import { orThrow, parsePolicy, tensor } from '../../src/index.js'
import { onnx } from '../../src/node.js'
import { evaluateClassifier } from '../../src/eval/classify.js'
import { readIdx } from '../../src/io/idx.js'

const assets = new URL('../../assets/fashion-mnist/', import.meta.url).pathname
const subset = 300

describe('Fashion-MNIST demo numbers', () => {
  it('hflip accuracy, fixed and broken agree with a hand-written TTA on the first 300 test images', async () => {
    const images = orThrow(await readIdx(`${assets}t10k-images-idx3-ubyte.gz`))
    const labels = orThrow(await readIdx(`${assets}t10k-labels-idx1-ubyte.gz`))
    expect(images.shape).toEqual([10000, 28, 28])
    const pixels = Float32Array.from(images.data.subarray(0, subset * 784), (v) => v / 255)
    const model = orThrow(await onnx.open(`${assets}cnn_aug.onnx`, { threads: 2 })())

    // Independent path: mirror each row by hand, call the model twice, average, argmax.
    const mirrored = new Float32Array(pixels.length)
    for (let n = 0; n < subset; n++) for (let i = 0; i < 28; i++) for (let j = 0; j < 28; j++) mirrored[n * 784 + i * 28 + j] = pixels[n * 784 + i * 28 + (27 - j)] ?? 0
    const plain = await model(orThrow(tensor([subset, 1, 28, 28], pixels)))
    const flipped = await model(orThrow(tensor([subset, 1, 28, 28], mirrored)))
    const argmax = (row: (c: number) => number): number => Array.from({ length: 10 }, (_, c) => c).reduce((b, c) => (row(c) > row(b) ? c : b), 0)
    let single = 0
    let tta = 0
    let fixed = 0
    let broken = 0
    for (let n = 0; n < subset; n++) {
      const truth = labels.data[n]
      const a = argmax((c) => plain.data[n * 10 + c] ?? 0) === truth
      const b = argmax((c) => ((plain.data[n * 10 + c] ?? 0) + (flipped.data[n * 10 + c] ?? 0)) / 2) === truth
      if (a) single++
      if (b) tta++
      if (b && !a) fixed++
      if (a && !b) broken++
    }

    const set = { shape: [subset, 1, 28, 28] as const, images: pixels, labels: labels.data.subarray(0, subset) }
    const [none, hflip] = orThrow(await evaluateClassifier(model, set, ['none', 'hflip'].map((name) => ({ name, product: orThrow(parsePolicy(name)) }))))
    expect(none?.correct).toBe(single)
    expect(hflip?.correct).toBe(tta)
    expect([hflip?.fixed, hflip?.broken]).toEqual([fixed, broken])
    expect(single / subset).toBeGreaterThan(0.85) // a trained model, not a random one
    await model.release()
  })
})
