/** The benchmark models and images. */
import { aliases, orThrow, resolveAugment, tensor, views, type Stage } from '../../src/index.js'
import { onnx, readIdx } from '../../src/node.js'

export const unetishPath = new URL('../models/unetish_512.onnx', import.meta.url).pathname
export const classifierPath = new URL('../../spec/fixtures/models/cls_gap_softmax.onnx', import.meta.url).pathname

/** unetish_512: `input` [N,3,512,512] → `mask` [N,2,512,512] (metadata checked by `onnx.load`). */
export const loadUnetish = async () =>
  orThrow(await onnx.load(unetishPath, { inputs: { input: ['N', 3, 512, 512] }, outputs: { mask: ['N', 2, 512, 512] }, threads: 2 })())

/** The small test classifier: `image` [N,3,H,W] → `probs` [N,5]. */
export const loadClassifier = async () =>
  orThrow(await onnx.load(classifierPath, { inputs: { image: ['N', 3, 'H', 'W'] }, outputs: { probs: ['N', 5] }, threads: 2 })())

/** Deterministic, non-constant pixels in [0, 1). */
export const pixels = (n: number): Float32Array => {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = ((i * 2654435761) % 1000003) / 1000003
  return out
}

export const image512 = () => orThrow(tensor([1, 3, 512, 512], pixels(3 * 512 * 512)))
export const image224 = () => orThrow(tensor([1, 3, 224, 224], pixels(3 * 224 * 224)))

/** The augment stages of every d4 view on an h×w image, in reference order. */
export const d4Stages = (height: number, width: number): readonly { readonly name: string; readonly stages: readonly Stage[] }[] =>
  views(aliases.d4()).map((v) => ({ name: v.name, stages: orThrow(resolveAugment(v.steps, height, width)) }))

const fashionDir = new URL('../../assets/fashion-mnist/', import.meta.url).pathname
export const fashionCnnPath = `${fashionDir}cnn_aug.onnx`

/** The trained Fashion-MNIST CNN: `image` [N,1,28,28] in 0..1 → `logits` [N,10]. */
export const loadFashionCnn = async () =>
  orThrow(await onnx.load(fashionCnnPath, { inputs: { image: ['N', 1, 28, 28] }, outputs: { logits: ['N', 10] }, threads: 2 })())

/** The first `n` official Fashion-MNIST test images as [n,1,28,28], pixels / 255. */
export const fashionImages = async (n: number) => {
  const idx = orThrow(await readIdx(`${fashionDir}t10k-images-idx3-ubyte.gz`))
  const data = new Float32Array(n * 28 * 28)
  for (let i = 0; i < data.length; i++) data[i] = (idx.data[i] ?? 0) / 255
  return orThrow(tensor([n, 1, 28, 28], data))
}
