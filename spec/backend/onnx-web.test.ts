/**
 * The browser's model adapter (`tta-lens/web`, onnxruntime-web) against Node's (`tta-lens/node`,
 * onnxruntime-node): the same declared signature is checked the same way, and the same TTA on the
 * same input gives the same result within float32 tolerance. onnxruntime-web runs here on its
 * WebAssembly provider, which it also offers in Node; the browser tests (spec/browser) repeat this
 * in Chromium with WebGPU.
 */
import { readFileSync } from 'node:fs'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { aliases, orThrow, tensor, wrap } from '../../src/index.js'
import { onnx as nodeOnnx } from '../../src/node.js'
import { onnx as webOnnx } from '../../src/web.js'

const bytes = (path: string): Uint8Array => readFileSync(new URL(`../../${path}`, import.meta.url))
const noise = (n: number, seed: number): Float32Array => Float32Array.from({ length: n }, (_, i) => ((Math.sin(i * 12.9898 + seed) * 43758.5453) % 1 + 1) % 1)
const maxDiff = (a: Float32Array, b: Float32Array): number => a.reduce((m, v, i) => Math.max(m, Math.abs(v - (b[i] ?? Number.NaN))), a.length === b.length ? 0 : Infinity)

describe('onnx in the browser edge (onnxruntime-web, wasm) against Node (onnxruntime-node)', () => {
  it('d4 segmentation of the fixture model gives the same mask', async () => {
    const spec = { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { mask: ['N', 2, 'H', 'W'] } } as const
    const file = bytes('spec/fixtures/models/seg_conv1x1_sigmoid.onnx')
    const web = orThrow(await webOnnx.load(file, spec, { providers: ['wasm'] })())
    const node = orThrow(await nodeOnnx.load(file, spec)())
    expect(web.runtime).toBe('onnxruntime-web wasm')
    expect(node.runtime).toBe('onnxruntime-node cpu')
    expect(web.signature).toEqual(node.signature)
    const image = orThrow(tensor([1, 3, 6, 10], noise(180, 1)))
    const a = orThrow(await wrap.segmentation(web, aliases.d4()).run(image)())
    const b = orThrow(await wrap.segmentation(node, aliases.d4()).run(image)())
    expect(a.shape).toEqual(b.shape)
    expect(maxDiff(a.data, b.data)).toBeLessThan(1e-6)
    await web.release()
    await node.release()
  })

  it('hflip classification with the bundled Fashion-MNIST CNN gives the same logits', async () => {
    const spec = { inputs: { image: ['N', 1, 28, 28] }, outputs: { logits: ['N', 10] } } as const
    const file = bytes('assets/fashion-mnist/cnn_aug.onnx')
    const web = orThrow(await webOnnx.load(file, spec, { providers: ['wasm'] })())
    const node = orThrow(await nodeOnnx.load(file, spec)())
    const images = orThrow(tensor([2, 1, 28, 28], noise(2 * 784, 2)))
    const a = orThrow(await wrap.classification(web, aliases.hflip()).run(images)())
    const b = orThrow(await wrap.classification(node, aliases.hflip()).run(images)())
    expect(maxDiff(a.data, b.data)).toBeLessThan(1e-4)
    await web.release()
    await node.release()
  })

  it('reports a file that is not a model, a failed fetch and a wrong signature as typed errors', async () => {
    const spec = { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { mask: ['N', 2, 'H', 'W'] } } as const
    const junk = await webOnnx.load(new TextEncoder().encode('not a model'), spec, { providers: ['wasm'] })()
    expect(E.isLeft(junk) && junk.left.message).toMatch(/the given bytes is not a model onnxruntime-web can load/)
    const missing = await webOnnx.load('http://127.0.0.1:9/nope.onnx', spec, { providers: ['wasm'] })()
    expect(E.isLeft(missing) && missing.left.message).toMatch(/cannot read the model file "http:\/\/127\.0\.0\.1:9\/nope\.onnx"/)
    const wrong = await webOnnx.load(bytes('spec/fixtures/models/seg_conv1x1_sigmoid.onnx'), { inputs: { x: ['N', 3, 'H', 'W'] }, outputs: { mask: ['N', 2, 'H', 'W'] } }, { providers: ['wasm'] })()
    expect(E.isLeft(wrong) && wrong.left.message).toMatch(/the model has no input 'x'; its inputs are image/)
    const badProvider = await webOnnx.load(bytes('spec/fixtures/models/seg_conv1x1_sigmoid.onnx'), spec, JSON.parse('{"providers":["cuda"]}'))()
    expect(E.isLeft(badProvider) && badProvider.left.message).toMatch(/providers must be some of webgpu, wasm/)
  })

  it('falls back to WebAssembly where there is no WebGPU, and says why', async () => {
    const model = orThrow(await webOnnx.open(bytes('spec/fixtures/models/cls_gap_softmax.onnx'))())
    expect(model.runtime).toMatch(/^onnxruntime-web wasm \(webgpu: /)
    await model.release()
  })
})
