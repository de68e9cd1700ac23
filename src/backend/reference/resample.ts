/**
 * Reference (oracle) implementation of PyTorch 1.13's
 * `torch.nn.functional.interpolate(x, size=(outH, outW), mode, align_corners)` on NCHW data,
 * CPU kernels, with the size given explicitly (no `scale_factor`), so every scale is in/out.
 *
 * It is written for clarity, not speed: generated kernels are checked against it. Index
 * arithmetic copies PyTorch's float32/float64 choices exactly, because a different rounding
 * picks a different source pixel; interpolation weights and sums are float64, and only the
 * stored result is rounded to float32.
 */

import type { Interpolation } from '../../transform/step.js'

export type { Interpolation }

/**
 * One axis of a separable resampling: output position `o` reads source positions
 * `index[o * taps + k]` with weights `weight[o * taps + k]`, for k < taps.
 */
export interface AxisTaps {
  readonly taps: number
  readonly index: Int32Array
  readonly weight: Float64Array
}

/** Half-open source window [start, end) per output position, for area (adaptive average) pooling. */
interface AxisWindows {
  readonly start: Int32Array
  readonly end: Int32Array
}

/** Bicubic convolution constant; PyTorch uses -0.75 (as OpenCV), not the -0.5 of Keys' paper. */
const CUBIC_A = -0.75

/** Resamples every H×W plane of `src` (planes = N*C consecutive planes, row-major) to outH×outW. */
export function resamplePlanes(
  src: Float32Array,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  mode: Interpolation,
  alignCorners: boolean,
): Float32Array {
  requireCount('planes', planes, 0)
  requireCount('inH', inH, 1)
  requireCount('inW', inW, 1)
  requireCount('outH', outH, 1)
  requireCount('outW', outW, 1)
  if (src.length !== planes * inH * inW) {
    throw new RangeError(
      `resamplePlanes: src has ${src.length} values, expected planes*inH*inW = ${planes * inH * inW}`,
    )
  }

  // alignCorners only means something for the interpolating modes; for the nearest modes
  // PyTorch refuses it outright, and the callers are the ones that reject it.
  switch (mode) {
    case 'nearest':
      return separable(src, planes, inH, inW, outH, outW, nearestTaps(inH, outH), nearestTaps(inW, outW))
    case 'nearest-exact':
      return separable(src, planes, inH, inW, outH, outW, nearestExactTaps(inH, outH), nearestExactTaps(inW, outW))
    case 'bilinear':
      return separable(
        src, planes, inH, inW, outH, outW,
        linearTaps(inH, outH, alignCorners), linearTaps(inW, outW, alignCorners),
      )
    case 'bicubic':
      return separable(
        src, planes, inH, inW, outH, outW,
        cubicTaps(inH, outH, alignCorners), cubicTaps(inW, outW, alignCorners),
      )
    case 'area':
      return areaAverage(src, planes, inH, inW, outH, outW, areaWindows(inH, outH), areaWindows(inW, outW))
    default:
      return assertNever(mode)
  }
}

/**
 * The per-axis index/weight table PyTorch uses for `mode`, for output positions 0..outSize-1.
 * Generated kernels read these tables (data, never code); `area` becomes an averaging table with
 * as many taps as the widest window, padded with zero weights.
 */
export function axisTaps(inSize: number, outSize: number, mode: Interpolation, alignCorners: boolean): AxisTaps {
  requireCount('inSize', inSize, 1)
  requireCount('outSize', outSize, 1)
  switch (mode) {
    case 'nearest': return nearestTaps(inSize, outSize)
    case 'nearest-exact': return nearestExactTaps(inSize, outSize)
    case 'bilinear': return linearTaps(inSize, outSize, alignCorners)
    case 'bicubic': return cubicTaps(inSize, outSize, alignCorners)
    case 'area': {
      const { start, end } = areaWindows(inSize, outSize)
      let taps = 1
      for (let o = 0; o < outSize; o++) taps = Math.max(taps, read(end, o) - read(start, o))
      const index = new Int32Array(outSize * taps)
      const weight = new Float64Array(outSize * taps)
      for (let o = 0; o < outSize; o++) {
        const from = read(start, o)
        const count = read(end, o) - from
        for (let k = 0; k < taps; k++) {
          index[o * taps + k] = k < count ? from + k : from
          weight[o * taps + k] = k < count ? 1 / count : 0
        }
      }
      return { taps, index, weight }
    }
    default:
      return assertNever(mode)
  }
}

// ---------------------------------------------------------------------------------------------
// Per-axis index/weight tables
// ---------------------------------------------------------------------------------------------

/**
 * nearest: src = min(floor(dst * scale), in - 1).
 * PyTorch 1.13 computes `(float)in / out` and `floorf(dst * scale)` in float32 for every dtype
 * (float64 tensors included). Doing it in float64 picks a different pixel, e.g. 2 -> 82 at
 * dst 41: float32 gives 41 * 0.024390243 = 0.99999994 -> 0, float64 gives exactly 1.
 */
function nearestTaps(inSize: number, outSize: number): AxisTaps {
  const scale = Math.fround(inSize / outSize)
  return oneTapPerOutput(outSize, (dst) => Math.min(Math.floor(Math.fround(dst * scale)), inSize - 1))
}

/**
 * nearest-exact: src = min(floor((dst + 0.5) * scale), in - 1), i.e. rounding the pixel-centre
 * mapping (as Pillow / scipy.ndimage.zoom). `scale` is float32; the product is taken in double
 * (`dst + 0.5` is a double) and then rounded to float32 by `floorf`, so fround the product too.
 */
function nearestExactTaps(inSize: number, outSize: number): AxisTaps {
  const scale = Math.fround(inSize / outSize)
  return oneTapPerOutput(outSize, (dst) => Math.min(Math.floor(Math.fround((dst + 0.5) * scale)), inSize - 1))
}

function oneTapPerOutput(outSize: number, sourceOf: (dst: number) => number): AxisTaps {
  const index = new Int32Array(outSize)
  const weight = new Float64Array(outSize).fill(1)
  for (let dst = 0; dst < outSize; dst++) index[dst] = sourceOf(dst)
  return { taps: 1, index, weight }
}

/** PyTorch's area_pixel_compute_scale: the source distance between two adjacent outputs. */
function sourceScale(inSize: number, outSize: number, alignCorners: boolean): number {
  if (alignCorners) {
    // Corner pixel centres map onto each other; a single output sits on the first input.
    return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0
  }
  return inSize / outSize
}

/**
 * PyTorch's area_pixel_compute_source_index: the (fractional) source coordinate of output `dst`.
 * Without alignCorners it maps pixel centres, (dst + 0.5) * scale - 0.5, which is negative near
 * the top/left edge when upsampling; linear clamps it to 0, cubic keeps it so that the cubic
 * weights stay correct (its out-of-range neighbours are clamped instead).
 */
function sourceIndex(scale: number, dst: number, alignCorners: boolean, cubic: boolean): number {
  if (alignCorners) return scale * dst
  const src = scale * (dst + 0.5) - 0.5
  return !cubic && src < 0 ? 0 : src
}

/** bilinear, per axis: PyTorch's compute_source_index_and_lambda. */
function linearTaps(inSize: number, outSize: number, alignCorners: boolean): AxisTaps {
  const scale = sourceScale(inSize, outSize, alignCorners)
  const index = new Int32Array(outSize * 2)
  const weight = new Float64Array(outSize * 2)
  for (let dst = 0; dst < outSize; dst++) {
    let i0: number
    let i1: number
    let lambda1: number
    if (inSize === outSize) {
      // PyTorch copies here, reading the same pixel twice with weights 1 and 0; kept so that
      // ±Infinity next to a pixel does not leak in as 0 * Infinity = NaN (it does only at the pixel).
      i0 = dst
      i1 = dst
      lambda1 = 0
    } else {
      const real = sourceIndex(scale, dst, alignCorners, false)
      // real >= 0 here, so truncation is floor; min() guards align_corners rounding past in - 1.
      i0 = Math.min(Math.trunc(real), inSize - 1)
      i1 = i0 < inSize - 1 ? i0 + 1 : i0
      lambda1 = Math.min(Math.max(real - i0, 0), 1)
    }
    index[dst * 2] = i0
    index[dst * 2 + 1] = i1
    weight[dst * 2] = 1 - lambda1
    weight[dst * 2 + 1] = lambda1
  }
  return { taps: 2, index, weight }
}

/** bicubic, per axis: PyTorch's HelperInterpCubic (4 taps, A = -0.75, edge-clamped neighbours). */
function cubicTaps(inSize: number, outSize: number, alignCorners: boolean): AxisTaps {
  const scale = sourceScale(inSize, outSize, alignCorners)
  const index = new Int32Array(outSize * 4)
  const weight = new Float64Array(outSize * 4)
  for (let dst = 0; dst < outSize; dst++) {
    const real = sourceIndex(scale, dst, alignCorners, true)
    // PyTorch floors with floorf, i.e. after rounding the double coordinate to float32.
    const base = Math.floor(Math.fround(real))
    const coeffs = cubicCoefficients(real - base)
    for (let k = 0; k < 4; k++) {
      // Neighbours beyond the edge repeat the edge pixel (replicate padding).
      index[dst * 4 + k] = Math.max(Math.min(base - 1 + k, inSize - 1), 0)
      weight[dst * 4 + k] = read(coeffs, k)
    }
  }
  return { taps: 4, index, weight }
}

/** Weights of the 4 neighbours at offsets -1, 0, +1, +2 for a fractional position t in [0, 1). */
function cubicCoefficients(t: number): Float64Array {
  return Float64Array.of(
    cubicConvolution2(t + 1, CUBIC_A),
    cubicConvolution1(t, CUBIC_A),
    cubicConvolution1(1 - t, CUBIC_A),
    cubicConvolution2(1 - t + 1, CUBIC_A),
  )
}

/** Keys' cubic kernel for |x| <= 1, in PyTorch's evaluation order. */
function cubicConvolution1(x: number, a: number): number {
  return ((a + 2) * x - (a + 3)) * x * x + 1
}

/** Keys' cubic kernel for 1 < |x| < 2, in PyTorch's evaluation order. */
function cubicConvolution2(x: number, a: number): number {
  return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
}

/**
 * area = adaptive_avg_pool2d: output o averages source [floor(o*in/out), ceil((o+1)*in/out)).
 * Windows overlap when in/out is not an integer. PyTorch 1.13 evaluates both quotients in
 * float32 ((float)(a * c) / b); this only differs from exact integer arithmetic for sizes far
 * beyond images, but the oracle follows it anyway.
 */
function areaWindows(inSize: number, outSize: number): AxisWindows {
  const start = new Int32Array(outSize)
  const end = new Int32Array(outSize)
  for (let dst = 0; dst < outSize; dst++) {
    start[dst] = Math.floor(Math.fround(Math.fround(dst * inSize) / outSize))
    end[dst] = Math.ceil(Math.fround(Math.fround((dst + 1) * inSize) / outSize))
  }
  return { start, end }
}

// ---------------------------------------------------------------------------------------------
// Plane loops
// ---------------------------------------------------------------------------------------------

/**
 * out[oy][ox] = Σ_j rowWeight_j * (Σ_k colWeight_k * src[row_j][col_k]), the same order as
 * PyTorch's generic upsampling kernel (height outer, width inner). Each sum starts from its first
 * product rather than from 0 so that a lone -0 stays -0, as in PyTorch.
 */
function separable(
  src: Float32Array,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  rows: AxisTaps,
  cols: AxisTaps,
): Float32Array {
  const out = new Float32Array(planes * outH * outW)
  for (let p = 0; p < planes; p++) {
    const srcPlane = p * inH * inW
    const outPlane = p * outH * outW
    for (let oy = 0; oy < outH; oy++) {
      for (let ox = 0; ox < outW; ox++) {
        let acc = 0
        for (let j = 0; j < rows.taps; j++) {
          const rowStart = srcPlane + read(rows.index, oy * rows.taps + j) * inW
          let inner = 0
          for (let k = 0; k < cols.taps; k++) {
            const term = read(src, rowStart + read(cols.index, ox * cols.taps + k)) * read(cols.weight, ox * cols.taps + k)
            inner = k === 0 ? term : inner + term
          }
          const term = inner * read(rows.weight, oy * rows.taps + j)
          acc = j === 0 ? term : acc + term
        }
        out[outPlane + oy * outW + ox] = acc
      }
    }
  }
  return out
}

/** Mean over each window: sum in row-major order from 0, then `sum / kh / kw` as PyTorch does. */
function areaAverage(
  src: Float32Array,
  planes: number,
  inH: number,
  inW: number,
  outH: number,
  outW: number,
  rows: AxisWindows,
  cols: AxisWindows,
): Float32Array {
  const out = new Float32Array(planes * outH * outW)
  for (let p = 0; p < planes; p++) {
    const srcPlane = p * inH * inW
    const outPlane = p * outH * outW
    for (let oy = 0; oy < outH; oy++) {
      const y0 = read(rows.start, oy)
      const y1 = read(rows.end, oy)
      for (let ox = 0; ox < outW; ox++) {
        const x0 = read(cols.start, ox)
        const x1 = read(cols.end, ox)
        let sum = 0
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) sum += read(src, srcPlane + y * inW + x)
        }
        out[outPlane + oy * outW + ox] = sum / (y1 - y0) / (x1 - x0)
      }
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------------

/** Typed-array read that fails loudly: every index here is in range by construction, so a miss is a bug. */
function read(arr: Float32Array | Float64Array | Int32Array, i: number): number {
  const v = arr[i]
  if (v === undefined) throw new RangeError(`resamplePlanes: internal index ${i} out of range (length ${arr.length})`)
  return v
}

function requireCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`resamplePlanes: ${name} must be an integer >= ${min}, got ${value}`)
  }
}

function assertNever(mode: never): never {
  throw new RangeError(`resamplePlanes: unknown interpolation mode ${String(mode)}`)
}
