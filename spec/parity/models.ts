/**
 * The tiny fixed-weight models of the golden file (`models.description` / `models.params`), in
 * TypeScript. They read the float32 batch a wrapper gives them, compute in float64 (as the
 * reference did) and return float32 tensors, so their outputs match ttach's to float32 rounding.
 *
 * Forms, as described in the file or (for the two that are only named in `wrapper_cases`) as
 * found by matching the wrapper outputs, exactly to float64 rounding:
 * - `seg_conv1x1_sigmoid`: sigmoid(conv1x1(x, W1, b1)) → [B, 2, H, W]
 * - `cls_gap_softmax`: softmax(mean_HW(x) · Wcᵀ + bc) → [B, 5]
 * - `kp_softargmax_scaled`: soft-argmax of beta·conv1x1(x, Wk, bk) over all pixels → [B, 8], normalised (x, y)
 * - `seg_conv3x3_sigmoid`: sigmoid(conv3x3(x, W3, b3), zero padding 1) → [B, 2, H, W]
 *   (reflect / replicate padding are off by 0.5; no padding gives a 6×6 mask)
 * - `cls_conv3x3_gap_logits`: mean_HW(seg_conv3x3_sigmoid(x)) · Wdᵀ + bd → [B, 5] logits
 *   (no activation, ReLU or tanh before the pooling are off by 2 to 6)
 *
 * @since 0.1.0
 */
import { orThrow, tensor, type Shape, type Tensor } from '../../src/index.js'
import type { Golden, GoldenTensor } from './golden.js'

/** The model input every parity model declares: any batch, 3 channels, any size. */
export type Input = Tensor<readonly ['N', 3, 'H', 'W']>

/** The models' weights, checked against the shapes the descriptions give. */
export interface Weights {
  readonly W1: GoldenTensor
  readonly b1: GoldenTensor
  readonly W3: GoldenTensor
  readonly b3: GoldenTensor
  readonly Wc: GoldenTensor
  readonly bc: GoldenTensor
  readonly Wd: GoldenTensor
  readonly bd: GoldenTensor
  readonly Wk: GoldenTensor
  readonly bk: GoldenTensor
  readonly beta: number
}

const param = (golden: Golden, name: string, shape: readonly number[]): GoldenTensor => {
  const p = golden.models.params[name]
  if (p === undefined) throw new Error(`the golden file has no model parameter '${name}'`)
  if (p.shape.length !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`model parameter '${name}' has shape [${p.shape.join(',')}], expected [${shape.join(',')}]`)
  }
  return p
}

/** Reads and checks the weights. @category constructors */
export const weightsOf = (golden: Golden): Weights => ({
  W1: param(golden, 'W1', [2, 3, 1, 1]),
  b1: param(golden, 'b1', [2]),
  W3: param(golden, 'W3', [2, 3, 3, 3]),
  b3: param(golden, 'b3', [2]),
  Wc: param(golden, 'Wc', [5, 3]),
  bc: param(golden, 'bc', [5]),
  Wd: param(golden, 'Wd', [5, 2]),
  bd: param(golden, 'bd', [5]),
  Wk: param(golden, 'Wk', [4, 3, 1, 1]),
  bk: param(golden, 'bk', [4]),
  beta: param(golden, 'beta', []).data[0] ?? Number.NaN,
})

const v = (t: GoldenTensor, i: number): number => {
  const x = t.data[i]
  if (x === undefined) throw new RangeError(`weight index ${i} out of range (${t.data.length} values)`)
  return x
}

const px = (x: Float32Array, i: number): number => {
  const value = x[i]
  if (value === undefined) throw new RangeError(`pixel index ${i} out of range (${x.length} values)`)
  return value
}

const sigmoid = (z: number): number => 1 / (1 + Math.exp(-z))

const dims = (x: Tensor<Shape>): readonly [number, number, number, number] => {
  const [b, c, h, w] = x.shape
  if (x.shape.length !== 4 || b === undefined || c !== 3 || h === undefined || w === undefined) {
    throw new Error(`the parity models take [B, 3, H, W], got [${x.shape.join(',')}]`)
  }
  return [b, c, h, w]
}

/** conv2d(x, weight [O, 3, k, k], bias [O]) with zero padding `pad`, stride 1, in float64: [B, O, H', W']. */
const conv = (x: Tensor<Shape>, weight: GoldenTensor, bias: GoldenTensor, pad: number): { readonly shape: readonly [number, number, number, number]; readonly data: Float64Array } => {
  const [b, c, h, w] = dims(x)
  const [o = 0, , k = 1] = weight.shape
  const oh = h + 2 * pad - k + 1
  const ow = w + 2 * pad - k + 1
  const out = new Float64Array(b * o * oh * ow)
  for (let n = 0; n < b; n++) {
    for (let q = 0; q < o; q++) {
      for (let i = 0; i < oh; i++) {
        for (let j = 0; j < ow; j++) {
          let acc = v(bias, q)
          for (let ch = 0; ch < c; ch++) {
            for (let u = 0; u < k; u++) {
              const si = i + u - pad
              if (si < 0 || si >= h) continue
              for (let s = 0; s < k; s++) {
                const sj = j + s - pad
                if (sj < 0 || sj >= w) continue
                acc += v(weight, ((q * c + ch) * k + u) * k + s) * px(x.data, ((n * c + ch) * h + si) * w + sj)
              }
            }
          }
          out[((n * o + q) * oh + i) * ow + j] = acc
        }
      }
    }
  }
  return { shape: [b, o, oh, ow], data: out }
}

const softmaxRows = (logits: Float64Array, rows: number, cols: number): Float64Array => {
  const out = new Float64Array(logits.length)
  for (let r = 0; r < rows; r++) {
    let max = Number.NEGATIVE_INFINITY
    for (let k = 0; k < cols; k++) max = Math.max(max, logits[r * cols + k] ?? Number.NaN)
    let sum = 0
    for (let k = 0; k < cols; k++) sum += Math.exp((logits[r * cols + k] ?? Number.NaN) - max)
    for (let k = 0; k < cols; k++) out[r * cols + k] = Math.exp((logits[r * cols + k] ?? Number.NaN) - max) / sum
  }
  return out
}

/** Mean over H and W of [B, C, H, W]: [B, C]. */
const globalMean = (shape: readonly [number, number, number, number], data: ArrayLike<number>): Float64Array => {
  const [b, c, h, w] = shape
  const out = new Float64Array(b * c)
  for (let p = 0; p < b * c; p++) {
    let sum = 0
    for (let i = 0; i < h * w; i++) sum += data[p * h * w + i] ?? Number.NaN
    out[p] = sum / (h * w)
  }
  return out
}

/** [B, I] · Wᵀ + bias for W [O, I]: [B, O]. */
const dense = (x: Float64Array, batch: number, weight: GoldenTensor, bias: GoldenTensor): Float64Array => {
  const [o = 0, i = 0] = weight.shape
  const out = new Float64Array(batch * o)
  for (let n = 0; n < batch; n++) {
    for (let q = 0; q < o; q++) {
      let acc = v(bias, q)
      for (let k = 0; k < i; k++) acc += (x[n * i + k] ?? Number.NaN) * v(weight, q * i + k)
      out[n * o + q] = acc
    }
  }
  return out
}

/** The five base models as plain functions of the batch. */
export interface BaseModels {
  readonly seg_conv1x1_sigmoid: (x: Tensor<Shape>) => Tensor<readonly [number, 2, number, number]>
  readonly seg_conv3x3_sigmoid: (x: Tensor<Shape>) => Tensor<readonly [number, 2, number, number]>
  readonly cls_gap_softmax: (x: Tensor<Shape>) => Tensor<readonly [number, 5]>
  readonly cls_conv3x3_gap_logits: (x: Tensor<Shape>) => Tensor<readonly [number, 5]>
  readonly kp_softargmax_scaled: (x: Tensor<Shape>) => Tensor<readonly [number, 8]>
}
export type BaseModelName = keyof BaseModels
export const baseModelNames: readonly BaseModelName[] = ['seg_conv1x1_sigmoid', 'seg_conv3x3_sigmoid', 'cls_gap_softmax', 'cls_conv3x3_gap_logits', 'kp_softargmax_scaled']

/** @category constructors */
export const baseModels = (weights: Weights): BaseModels => {
  const seg3 = (x: Tensor<Shape>): { readonly shape: readonly [number, number, number, number]; readonly data: Float64Array } => {
    const y = conv(x, weights.W3, weights.b3, 1)
    return { shape: y.shape, data: y.data.map(sigmoid) }
  }
  return {
    seg_conv1x1_sigmoid: (x) => {
      const y = conv(x, weights.W1, weights.b1, 0)
      const [b, , h, w] = y.shape
      return orThrow(tensor([b, 2, h, w], y.data.map(sigmoid)))
    },
    seg_conv3x3_sigmoid: (x) => {
      const y = seg3(x)
      const [b, , h, w] = y.shape
      return orThrow(tensor([b, 2, h, w], y.data))
    },
    cls_gap_softmax: (x) => {
      const [b] = dims(x)
      const logits = dense(globalMean(dims(x), x.data), b, weights.Wc, weights.bc)
      return orThrow(tensor([b, 5], softmaxRows(logits, b, 5)))
    },
    cls_conv3x3_gap_logits: (x) => {
      const y = seg3(x)
      const [b] = y.shape
      return orThrow(tensor([b, 5], dense(globalMean(y.shape, y.data), b, weights.Wd, weights.bd)))
    },
    kp_softargmax_scaled: (x) => {
      const heat = conv(x, weights.Wk, weights.bk, 0)
      const [b, k, h, w] = heat.shape
      const out = new Float64Array(b * k * 2)
      for (let p = 0; p < b * k; p++) {
        const plane = heat.data.subarray(p * h * w, (p + 1) * h * w).map((z) => z * weights.beta)
        const prob = softmaxRows(plane, 1, h * w)
        let sx = 0
        let sy = 0
        for (let i = 0; i < h; i++) {
          for (let j = 0; j < w; j++) {
            const q = prob[i * w + j] ?? Number.NaN
            sx += (q * (j + 0.5)) / w
            sy += (q * (i + 0.5)) / h
          }
        }
        out[p * 2] = sx
        out[p * 2 + 1] = sy
      }
      return orThrow(tensor([b, 8], out))
    },
  }
}

/** How a wrapper case's model is built from a base model (parsed from its name in the file). */
export type ModelSpec =
  | { readonly form: 'plain'; readonly base: BaseModelName }
  /** `X wrapped as {'key': y, 'aux': mean(x)}`: returns a record; the wrapper picks `key`. */
  | { readonly form: 'record'; readonly base: BaseModelName; readonly key: string }
  /** `model(x, offset, scale) = X(x)*scale + offset`: extra arguments passed through by the wrapper. */
  | { readonly form: 'affine'; readonly base: BaseModelName }

const isBase = (name: string | undefined): name is BaseModelName => baseModelNames.some((n) => n === name)

/** Parses a model name of `wrapper_cases` / `model_outputs`, failing loudly on anything unknown. */
export const parseModel = (name: string): ModelSpec => {
  if (isBase(name)) return { form: 'plain', base: name }
  const record = /^(\w+) wrapped as \{'(\w+)': y, 'aux': mean\(x\)\}$/.exec(name)
  if (record !== null && isBase(record[1]) && record[2] !== undefined) return { form: 'record', base: record[1], key: record[2] }
  const affine = /^model\(x, offset, scale\) = (\w+)\(x\)\*scale \+ offset$/.exec(name)
  if (affine !== null && isBase(affine[1])) return { form: 'affine', base: affine[1] }
  throw new Error(`unknown golden model '${name}'`)
}

/** `mean(x)` as a one-element tensor (the `aux` output of the record models). */
export const meanOf = (x: Tensor<Shape>): Tensor<readonly [1]> =>
  orThrow(tensor([1], [x.data.reduce((a, value) => a + value, 0) / x.data.length]))

/** `y * scale + offset`, in float32 like the model's output. */
export const affine = (y: Tensor<Shape>, offset: number, scale: number): Tensor<readonly number[]> =>
  orThrow(tensor([...y.shape], y.data.map((value) => value * scale + offset)))
