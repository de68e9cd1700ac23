/**
 * Renders the transposing part of a `GatherKernel` — a quarter turn, alone or with flips and crops —
 * as a WebAssembly SIMD function (kernels/wasm encodes it).
 *
 * A quarter turn reads the source by columns: in plain JavaScript every value is a separate load
 * and store (about 2 ns a value here), while rows (flips, crops) are already native copies. So a
 * kernel whose map swaps the axes is split in two: {@link transposeOf} is the pure gather, run here
 * on 4×4 blocks (four 128-bit row loads, eight shuffles, four 128-bit stores, with flips folded
 * into which row is loaded and which is stored where), and {@link afterTranspose} is what is left —
 * an identity map with the kernel's scale, shift and write — run by the JavaScript renderer over
 * the transposed rows, which are now contiguous.
 *
 * The generated function is `transpose(src, dst, planes)`: byte offsets of the first source and
 * output plane in the imported memory, and how many consecutive planes to turn. Every number in it
 * comes from the kernel's validated sizes and map.
 *
 * @since 0.3.0
 */
import { identityMap } from '../src/transform/d4.js'
import type { GatherKernel } from './ir.js'
import type { Instr, WasmModule } from './wasm.js'

/** A gather whose map swaps the axes: output (i, j) reads source (ij·j + i0, ji·i + j0), ij and ji = ±1. */
export interface TransposeKernel {
  readonly planes: number
  readonly inHeight: number
  readonly inWidth: number
  readonly outHeight: number
  readonly outWidth: number
  readonly ij: 1 | -1
  readonly ji: 1 | -1
  readonly i0: number
  readonly j0: number
}

const unit = (n: number): 1 | -1 | undefined => (n === 1 ? 1 : n === -1 ? -1 : undefined)

/** The pure transposing gather of a kernel, or undefined when its map does not swap the axes (or it resamples, or fills). */
export const transposeOf = (k: GatherKernel): TransposeKernel | undefined => {
  const m = k.pre
  const ij = unit(m.ij)
  const ji = unit(m.ji)
  if (k.resample !== undefined || k.fill !== undefined || m.ii !== 0 || m.jj !== 0 || ij === undefined || ji === undefined) return undefined
  return { planes: k.planes, inHeight: k.inHeight, inWidth: k.inWidth, outHeight: k.outHeight, outWidth: k.outWidth, ij, ji, i0: m.i0, j0: m.j0 }
}

/** What remains of `k` once its planes are transposed: the identity map, with `k`'s scale, shift and write. */
export const afterTranspose = (k: GatherKernel, planes: number): GatherKernel => ({
  kind: 'gather', planes, inHeight: k.outHeight, inWidth: k.outWidth, outHeight: k.outHeight, outWidth: k.outWidth,
  post: identityMap(k.outHeight, k.outWidth), pre: identityMap(k.outHeight, k.outWidth), scale: k.scale, shift: k.shift, write: k.write,
})

// Locals: the three parameters, then addresses, then vectors.
const SRC = 0
const DST = 1
const PLANES = 2
const ROW_SRC = 3 // source address of the current band's first block
const SRC_P = 4 // source address of the current block
const DST_ROW = 5 // output address of the current band's first block
const DST_P = 6 // output address of the current block
const ROW_END = 7 // DST_P when the band is done
const END = 8 // DST_ROW when the region is done
const V = 9 // v0..v3: four source rows of 4 values
const T = 13 // t0..t3: half-transposed pairs

const get = (l: number): Instr => ['local.get', l]
const set = (l: number): Instr => ['local.set', l]
const add = (l: number, delta: number): Instr[] => [get(l), ['i32.const', delta], ['i32.add'], set(l)]
/** local `to` = local `from` + constant. */
const offsetOf = (to: number, from: number, delta: number): Instr[] => [get(from), ['i32.const', delta], ['i32.add'], set(to)]

/** Byte lanes of 32-bit lanes: `lanes32(0, 4, 1, 5)` takes a0, b0, a1, b1. */
const lanes32 = (...lanes: readonly number[]): readonly number[] => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])
const INTERLEAVE_LOW = lanes32(0, 4, 1, 5)
const INTERLEAVE_HIGH = lanes32(2, 6, 3, 7)
const LOW_HALVES = lanes32(0, 1, 4, 5)
const HIGH_HALVES = lanes32(2, 3, 6, 7)

/**
 * A loop over bands of `4·u` output rows in [iStart, iEnd) and blocks of 4 columns in [0, w4):
 * each step transposes `u` 4×4 blocks stacked down the band.
 */
const bands = (t: TransposeKernel, iStart: number, iEnd: number, w4: number, u: number): Instr[] => {
  if (iEnd <= iStart || w4 === 0) return []
  const rowBytes = 4 * t.inWidth
  // Lowest source row of the block at column j, and lowest source column of a sub-block at row i.
  const rowLow = (j: number): number => (t.ij > 0 ? j + t.i0 : t.i0 - j - 3)
  const colLow = (i: number): number => (t.ji > 0 ? i + t.j0 : t.j0 - i - 3)
  const bandColLow = t.ji > 0 ? colLow(iStart) : colLow(iStart + 4 * (u - 1))
  const body: Instr[] = []
  for (let q = 0; q < u; q++) {
    const colOffset = 16 * (t.ji > 0 ? q : u - 1 - q)
    // v_m: the source row of output column j + m, four columns wide.
    for (let m = 0; m < 4; m++) body.push(get(SRC_P), ['v128.load', (t.ij > 0 ? m : 3 - m) * rowBytes + colOffset], set(V + m))
    body.push(
      get(V), get(V + 1), ['i8x16.shuffle', INTERLEAVE_LOW], set(T),
      get(V), get(V + 1), ['i8x16.shuffle', INTERLEAVE_HIGH], set(T + 1),
      get(V + 2), get(V + 3), ['i8x16.shuffle', INTERLEAVE_LOW], set(T + 2),
      get(V + 2), get(V + 3), ['i8x16.shuffle', INTERLEAVE_HIGH], set(T + 3),
    )
    // Lane l of the source rows is source column colLow + l: output row 4q + l, or 4q + 3 − l when columns run backwards.
    const rows: readonly (readonly [number, number, readonly number[]])[] = [[T, T + 2, LOW_HALVES], [T, T + 2, HIGH_HALVES], [T + 1, T + 3, LOW_HALVES], [T + 1, T + 3, HIGH_HALVES]]
    for (const [l, [a, b, lanes]] of rows.entries()) {
      const k = 4 * q + (t.ji > 0 ? l : 3 - l)
      body.push(get(DST_P), get(a), get(b), ['i8x16.shuffle', lanes], ['v128.store', k * 4 * t.outWidth])
    }
  }
  return [
    ...offsetOf(ROW_SRC, SRC, 4 * (rowLow(0) * t.inWidth + bandColLow)),
    ...offsetOf(DST_ROW, DST, 4 * iStart * t.outWidth),
    ...offsetOf(END, DST, 4 * iEnd * t.outWidth),
    ['loop'],
    get(ROW_SRC), set(SRC_P), get(DST_ROW), set(DST_P),
    ...offsetOf(ROW_END, DST_ROW, 4 * w4),
    ['loop'],
    ...body,
    ...add(SRC_P, t.ij * 4 * rowBytes),
    ...add(DST_P, 16),
    get(DST_P), get(ROW_END), ['i32.ne'], ['br_if', 0],
    ['end'],
    ...add(ROW_SRC, t.ji * 16 * u),
    ...add(DST_ROW, 16 * u * t.outWidth),
    get(DST_ROW), get(END), ['i32.ne'], ['br_if', 0],
    ['end'],
  ]
}

/** A value-by-value loop over output rows [iStart, iEnd) and columns [jStart, jEnd) (the edges blocks leave). */
const scalar = (t: TransposeKernel, iStart: number, iEnd: number, jStart: number, jEnd: number): Instr[] => {
  if (iEnd <= iStart || jEnd <= jStart) return []
  const first = (t.ij * jStart + t.i0) * t.inWidth + t.ji * iStart + t.j0
  return [
    ...offsetOf(ROW_SRC, SRC, 4 * first),
    ...offsetOf(DST_ROW, DST, 4 * (iStart * t.outWidth + jStart)),
    ...offsetOf(END, DST, 4 * (iEnd * t.outWidth + jStart)),
    ['loop'],
    get(ROW_SRC), set(SRC_P), get(DST_ROW), set(DST_P),
    ...offsetOf(ROW_END, DST_ROW, 4 * (jEnd - jStart)),
    ['loop'],
    // Bit copies (i32), so every float, NaN payloads included, arrives unchanged.
    get(DST_P), get(SRC_P), ['i32.load', 0], ['i32.store', 0],
    ...add(SRC_P, t.ij * 4 * t.inWidth),
    ...add(DST_P, 4),
    get(DST_P), get(ROW_END), ['i32.ne'], ['br_if', 0],
    ['end'],
    ...add(ROW_SRC, t.ji * 4),
    ...add(DST_ROW, 4 * t.outWidth),
    get(DST_ROW), get(END), ['i32.ne'], ['br_if', 0],
    ['end'],
  ]
}

/** Output rows per band in the main loop: 4 blocks of 4 use each 64-byte source line whole. */
export const BAND_BLOCKS = 4

/**
 * Refuses a kernel whose sizes are not positive integers or whose map reads outside the source
 * plane: the module reads only the planes copied in, and must not be built to read anything else.
 */
const checkTranspose = (t: TransposeKernel): void => {
  for (const n of [t.inHeight, t.inWidth, t.outHeight, t.outWidth]) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`wasm renderer: plane size ${n} is not a positive integer`)
  }
  for (const [i, j] of [[0, 0], [0, t.outWidth - 1], [t.outHeight - 1, 0], [t.outHeight - 1, t.outWidth - 1]] as const) {
    const si = t.ij * j + t.i0
    const sj = t.ji * i + t.j0
    if (!Number.isSafeInteger(si) || !Number.isSafeInteger(sj) || si < 0 || si >= t.inHeight || sj < 0 || sj >= t.inWidth) {
      throw new RangeError(`wasm renderer: output (${i}, ${j}) would read (${si}, ${sj}) outside the ${t.inHeight}×${t.inWidth} source`)
    }
  }
}

/** The module for a transposing gather: one function `transpose(src, dst, planes)`. */
export const renderWasm = (t: TransposeKernel): WasmModule => {
  checkTranspose(t)
  const h4 = t.outHeight - (t.outHeight % 4)
  const w4 = t.outWidth - (t.outWidth % 4)
  const wide = h4 - (h4 % (4 * BAND_BLOCKS))
  const plane: Instr[] = [
    ...bands(t, 0, wide, w4, BAND_BLOCKS),
    ...bands(t, wide, h4, w4, 1),
    ...scalar(t, 0, h4, w4, t.outWidth),
    ...scalar(t, h4, t.outHeight, 0, t.outWidth),
  ]
  return {
    functions: [{
      name: 'transpose',
      params: 3,
      locals: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128'],
      body: [
        ['block'],
        get(PLANES), ['i32.eqz'], ['br_if', 0],
        ['loop'],
        ...plane,
        ...add(SRC, 4 * t.inHeight * t.inWidth),
        ...add(DST, 4 * t.outHeight * t.outWidth),
        ...add(PLANES, -1),
        get(PLANES), ['br_if', 0],
        ['end'],
        ['end'],
      ],
    }],
  }
}
