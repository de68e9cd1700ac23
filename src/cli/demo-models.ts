/**
 * Two small fixed-weight models for the demo, written as plain async functions over tensors — the
 * same contract an ONNX model will have. They are deliberately not symmetric (a Sobel-x edge filter,
 * a left-vs-right feature) so that the views of a TTA product really disagree.
 *
 * @since 0.1.0
 */
import { orThrow } from '../errors.js'
import { tensor, type Tensor } from '../tensor/tensor.js'

const conv3x3 = (x: Tensor<readonly ['N', 3, 'H', 'W']>, kernel: readonly number[], bias: number, out: Float32Array, channel: number, channels: number): void => {
  const [n, c, h, w] = x.shape
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        let sum = bias
        for (let ch = 0; ch < c; ch++) {
          for (let di = -1; di <= 1; di++) {
            for (let dj = -1; dj <= 1; dj++) {
              const si = i + di
              const sj = j + dj
              if (si < 0 || si >= h || sj < 0 || sj >= w) continue // zero padding
              sum += (kernel[(di + 1) * 3 + (dj + 1)] ?? 0) * (x.data[((b * c + ch) * h + si) * w + sj] ?? 0) / c
            }
          }
        }
        out[((b * channels + channel) * h + i) * w + j] = 1 / (1 + Math.exp(-sum))
      }
    }
  }
}

/** 2-channel "segmentation": channel 0 = vertical edges (Sobel-x), channel 1 = bright regions. */
export const edgeSegmenter = async (x: Tensor<readonly ['N', 3, 'H', 'W']>): Promise<Tensor<readonly [number, 2, number, number]>> => {
  const [n, , h, w] = x.shape
  const out = new Float32Array(n * 2 * h * w)
  conv3x3(x, [-4, 0, 4, -8, 0, 8, -4, 0, 4], -2, out, 0, 2)
  conv3x3(x, [0, 0, 0, 0, 8, 0, 0, 0, 0], -4, out, 1, 2)
  return orThrow(tensor([n, 2, h, w], out))
}

/** 3-class "classifier" on global features: brightness, left-vs-right and top-vs-bottom contrast. */
export const featureClassifier = async (x: Tensor<readonly ['N', 3, 'H', 'W']>): Promise<Tensor<readonly [number, 3]>> => {
  const [n, c, h, w] = x.shape
  const scores: number[] = []
  for (let b = 0; b < n; b++) {
    let mean = 0
    let leftRight = 0
    let topBottom = 0
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < h; i++) {
        for (let j = 0; j < w; j++) {
          const v = x.data[((b * c + ch) * h + i) * w + j] ?? 0
          mean += v
          leftRight += j < w / 2 ? v : -v
          topBottom += i < h / 2 ? v : -v
        }
      }
    }
    const count = c * h * w
    const f = [mean / count, leftRight / count, topBottom / count]
    const logits = [4 * (f[0] ?? 0) + 6 * (f[1] ?? 0), 2 - 3 * (f[0] ?? 0), 6 * (f[2] ?? 0) - 2 * (f[1] ?? 0)]
    const max = Math.max(...logits)
    const exps = logits.map((l) => Math.exp(l - max))
    const total = exps.reduce((a, e) => a + e, 0)
    scores.push(...exps.map((e) => e / total))
  }
  return orThrow(tensor([n, 3], scores))
}

/** A deterministic 1×3×H×W test image: a bright disc left of centre on a diagonal gradient, plus a bar. */
export const demoImage = <const H extends number, const W extends number>(height: H, width: W): Tensor<readonly [1, 3, H, W]> => {
  const data = new Float32Array(3 * height * width)
  for (let ch = 0; ch < 3; ch++) {
    for (let i = 0; i < height; i++) {
      for (let j = 0; j < width; j++) {
        const gradient = (i + j) / (height + width)
        const disc = (i - height * 0.45) ** 2 + (j - width * 0.3) ** 2 < (Math.min(height, width) * 0.25) ** 2 ? 0.6 : 0
        const bar = j > width * 0.7 && j < width * 0.8 && i > height * 0.2 ? 0.4 : 0
        data[(ch * height + i) * width + j] = Math.min(1, 0.2 * gradient * (ch + 1) + disc + bar)
      }
    }
  }
  return orThrow(tensor([1, 3, height, width], data))
}
