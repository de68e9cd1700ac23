/**
 * Renders the part of a `GatherKernel` that plain JavaScript does slowly — a quarter turn, or a
 * mirrored row — as a WebAssembly SIMD function (kernels/wasm encodes it).
 *
 * A quarter turn reads the source by columns: in plain JavaScript every value is a separate load
 * and store (1–2 ns a value here), while forward rows are native copies. So a kernel whose map
 * swaps the axes, or whose rows run backwards into a plain store, is split in two:
 * {@link wasmGatherOf} is the pure gather, run here on 128-bit vectors, and {@link afterGather} is
 * what is left — an identity map with the kernel's scale, shift and write — run by the JavaScript
 * renderer over the gathered rows, which are now contiguous and forward.
 *
 * - A turn moves 4×4 blocks: four 128-bit row loads, eight shuffles, four 128-bit stores, with any
 *   flips folded into which row is loaded and where each result is stored; the main loop takes
 *   bands of 16 output rows, so each 64-byte source line is used whole.
 * - A mirror reverses 16 values at a time: four loads from the row's far end, one shuffle each.
 * - Edges the vectors leave (sizes that are not multiples of 4 or 16) are copied value by value.
 *
 * The generated function is `gather(src, dst, planes)`: byte offsets of the first source and output
 * plane in the imported memory, and how many consecutive planes to gather. Every number in it comes
 * from the kernel's validated sizes and map ({@link renderWasm} refuses a map that would read outside
 * the source plane).
 *
 * @since 0.3.0
 */
import { identityMap, type AffineIndexMap } from '../src/transform/d4.js'
import type { GatherKernel } from './ir.js'
import type { Instr, WasmModule } from './wasm.js'

/** A plane gather that WebAssembly runs: the sizes and the kernel's map (coefficients −1, 0 or 1). */
export interface WasmGather {
  readonly planes: number
  readonly inHeight: number
  readonly inWidth: number
  readonly outHeight: number
  readonly outWidth: number
  /** Output (i, j) reads source (ii·i + ij·j + i0, ji·i + jj·j + j0). */
  readonly map: AffineIndexMap
}

/**
 * Which shape a map has: axes swapped (a turn), rows reversed (a mirror), forward rows in either
 * order (a vertical flip, a crop), or none of these.
 */
export const wasmShape = (m: AffineIndexMap): 'transpose' | 'mirror' | 'rows' | undefined => {
  const unit = (n: number): boolean => n === 1 || n === -1
  if (m.ii === 0 && m.jj === 0 && unit(m.ij) && unit(m.ji)) return 'transpose'
  if (m.ij === 0 && m.ji === 0 && unit(m.ii) && m.jj === -1) return 'mirror'
  if (m.ij === 0 && m.ji === 0 && unit(m.ii) && m.jj === 1) return 'rows'
  return undefined
}

/**
 * The part of a kernel to run in WebAssembly, or undefined. Kernels that resample or fill never.
 *
 * Through scratch memory (`'scratch'`, the default: the gathered rows are copied out and finished
 * by JavaScript): turns always (any write); mirrored rows only into a plain store, and not when the
 * rows are also whole and backwards (a half turn of the plane), which the JavaScript renderer does
 * as one native copy and reverse per plane.
 *
 * Straight into a batch held in WebAssembly memory (`'batch'`: the source is there already and the
 * output is finished in place, so a store of any scale and shift): turns and mirrors of every kind,
 * half turns included, which are then one pass instead of a copy and a reverse.
 */
export const wasmGatherOf = (k: GatherKernel, where: 'scratch' | 'batch' = 'scratch'): WasmGather | undefined => {
  const m = k.pre
  if (k.resample !== undefined || k.fill !== undefined) return undefined
  const shape = wasmShape(m)
  if (shape === undefined) return undefined
  if (where === 'batch' && k.write !== 'store') return undefined
  // Forward rows are native copies in JavaScript (one per plane when they are whole rows in order,
  // as fast as the batch's floor); only rows in reverse order, or cut, are worth a module, and only
  // where nothing has to be copied in and out for it.
  if (shape === 'rows' && (where === 'scratch' || (m.ii === 1 && k.outWidth === k.inWidth))) return undefined
  if (where === 'scratch' && shape === 'mirror') {
    const plain = k.write === 'store' && k.scale === 1 && k.shift === 0
    const halfTurn = m.ii === -1 && k.outWidth === k.inWidth
    if (!plain || halfTurn) return undefined
  }
  return { planes: k.planes, inHeight: k.inHeight, inWidth: k.inWidth, outHeight: k.outHeight, outWidth: k.outWidth, map: m }
}

/**
 * What remains of `k` for `rows` gathered output rows (of one plane or several, contiguous): the
 * identity over them, with `k`'s scale, shift and write.
 */
export const afterGather = (k: GatherKernel, rows: number): GatherKernel => ({
  kind: 'gather', planes: 1, inHeight: rows, inWidth: k.outWidth, outHeight: rows, outWidth: k.outWidth,
  post: identityMap(rows, k.outWidth), pre: identityMap(rows, k.outWidth), scale: k.scale, shift: k.shift, write: k.write,
})

// Locals: the three parameters, then addresses, then vectors.
const SRC = 0
const DST = 1
const PLANES = 2
const ROW_SRC = 3 // source address of the current band's (or row's) first block
const SRC_P = 4 // source address of the current block
const DST_ROW = 5 // output address of the current band's (or row's) first block
const DST_P = 6 // output address of the current block
const ROW_END = 7 // DST_P when the band (or row) is done
const END = 8 // DST_ROW when the region is done
const V = 9 // v0..v3: four loaded vectors
const T = 13 // t0..t3: half-transposed pairs

const get = (l: number): Instr => ['local.get', l]
const set = (l: number): Instr => ['local.set', l]
const add = (l: number, delta: number): Instr[] => [get(l), ['i32.const', delta], ['i32.add'], set(l)]
/** local `to` = local `from` + constant. */
const offsetOf = (to: number, from: number, delta: number): Instr[] => [get(from), ['i32.const', delta], ['i32.add'], set(to)]
/** Repeats the enclosing loop until local `a` reaches local `b`. */
const until = (a: number, b: number): Instr[] => [get(a), get(b), ['i32.ne'], ['br_if', 0]]

/** Byte lanes of 32-bit lanes: `lanes32(0, 4, 1, 5)` takes a0, b0, a1, b1. */
const lanes32 = (...lanes: readonly number[]): readonly number[] => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3])
const INTERLEAVE_LOW = lanes32(0, 4, 1, 5)
const INTERLEAVE_HIGH = lanes32(2, 6, 3, 7)
const LOW_HALVES = lanes32(0, 1, 4, 5)
const HIGH_HALVES = lanes32(2, 3, 6, 7)
const REVERSED = lanes32(3, 2, 1, 0)

/** Blocks of 4 per band in a turn's main loop: 16 output rows read each 64-byte source line whole. */
const BAND_BLOCKS = 4
/** Blocks of 4 per step of a mirror's loop. */
const MIRROR_BLOCKS = 4

/**
 * A turn's loop over bands of `4·u` output rows in [iStart, iEnd) and blocks of 4 columns in
 * [0, w4): each step transposes `u` 4×4 blocks stacked down the band.
 */
const bands = (g: WasmGather, iStart: number, iEnd: number, w4: number, u: number): Instr[] => {
  if (iEnd <= iStart || w4 === 0) return []
  const { ij, ji, i0, j0 } = g.map
  const rowBytes = 4 * g.inWidth
  // Lowest source row of the block at column j, and lowest source column of a sub-block at row i.
  const rowLow = (j: number): number => (ij > 0 ? j + i0 : i0 - j - 3)
  const colLow = (i: number): number => (ji > 0 ? i + j0 : j0 - i - 3)
  const bandColLow = ji > 0 ? colLow(iStart) : colLow(iStart + 4 * (u - 1))
  const body: Instr[] = []
  for (let q = 0; q < u; q++) {
    const colOffset = 16 * (ji > 0 ? q : u - 1 - q)
    // v_m: the source row of output column j + m, four columns wide.
    for (let m = 0; m < 4; m++) body.push(get(SRC_P), ['v128.load', (ij > 0 ? m : 3 - m) * rowBytes + colOffset], set(V + m))
    body.push(
      get(V), get(V + 1), ['i8x16.shuffle', INTERLEAVE_LOW], set(T),
      get(V), get(V + 1), ['i8x16.shuffle', INTERLEAVE_HIGH], set(T + 1),
      get(V + 2), get(V + 3), ['i8x16.shuffle', INTERLEAVE_LOW], set(T + 2),
      get(V + 2), get(V + 3), ['i8x16.shuffle', INTERLEAVE_HIGH], set(T + 3),
    )
    // Lane l of the source rows is source column colLow + l: output row 4q + l, or 4q + 3 − l when columns run backwards.
    const rows: readonly (readonly [number, number, readonly number[]])[] = [[T, T + 2, LOW_HALVES], [T, T + 2, HIGH_HALVES], [T + 1, T + 3, LOW_HALVES], [T + 1, T + 3, HIGH_HALVES]]
    for (const [l, [a, b, lanes]] of rows.entries()) {
      const k = 4 * q + (ji > 0 ? l : 3 - l)
      body.push(get(DST_P), get(a), get(b), ['i8x16.shuffle', lanes], ['v128.store', k * 4 * g.outWidth])
    }
  }
  return [
    ...offsetOf(ROW_SRC, SRC, 4 * (rowLow(0) * g.inWidth + bandColLow)),
    ...offsetOf(DST_ROW, DST, 4 * iStart * g.outWidth),
    ...offsetOf(END, DST, 4 * iEnd * g.outWidth),
    ['loop'],
    get(ROW_SRC), set(SRC_P), get(DST_ROW), set(DST_P),
    ...offsetOf(ROW_END, DST_ROW, 4 * w4),
    ['loop'],
    ...body,
    ...add(SRC_P, ij * 4 * rowBytes),
    ...add(DST_P, 16),
    ...until(DST_P, ROW_END),
    ['end'],
    ...add(ROW_SRC, ji * 16 * u),
    ...add(DST_ROW, 16 * u * g.outWidth),
    ...until(DST_ROW, END),
    ['end'],
  ]
}

/** A value-by-value loop over output rows [iStart, iEnd) and columns [jStart, jEnd) (the edges vectors leave). */
const scalar = (g: WasmGather, iStart: number, iEnd: number, jStart: number, jEnd: number): Instr[] => {
  if (iEnd <= iStart || jEnd <= jStart) return []
  const m = g.map
  const first = (m.ii * iStart + m.ij * jStart + m.i0) * g.inWidth + m.ji * iStart + m.jj * jStart + m.j0
  return [
    ...offsetOf(ROW_SRC, SRC, 4 * first),
    ...offsetOf(DST_ROW, DST, 4 * (iStart * g.outWidth + jStart)),
    ...offsetOf(END, DST, 4 * (iEnd * g.outWidth + jStart)),
    ['loop'],
    get(ROW_SRC), set(SRC_P), get(DST_ROW), set(DST_P),
    ...offsetOf(ROW_END, DST_ROW, 4 * (jEnd - jStart)),
    ['loop'],
    // Bit copies (i32), so every float, NaN payloads included, arrives unchanged.
    get(DST_P), get(SRC_P), ['i32.load', 0], ['i32.store', 0],
    ...add(SRC_P, 4 * (m.ij * g.inWidth + m.jj)),
    ...add(DST_P, 4),
    ...until(DST_P, ROW_END),
    ['end'],
    ...add(ROW_SRC, 4 * (m.ii * g.inWidth + m.ji)),
    ...add(DST_ROW, 4 * g.outWidth),
    ...until(DST_ROW, END),
    ['end'],
  ]
}

/** A turn: 16-row bands of 4×4 blocks, then 4-row bands, then the edges value by value. */
const transposePlane = (g: WasmGather): Instr[] => {
  const h4 = g.outHeight - (g.outHeight % 4)
  const w4 = g.outWidth - (g.outWidth % 4)
  const wide = h4 - (h4 % (4 * BAND_BLOCKS))
  return [
    ...bands(g, 0, wide, w4, BAND_BLOCKS),
    ...bands(g, wide, h4, w4, 1),
    ...scalar(g, 0, h4, w4, g.outWidth),
    ...scalar(g, h4, g.outHeight, 0, g.outWidth),
  ]
}

/**
 * Rows, forward or mirrored: each output row copied 16 values at a time (for a mirror, reversed from
 * the source row's far end), then the rest value by value.
 */
const rowPlane = (g: WasmGather, mirrored: boolean): Instr[] => {
  const { ii, i0, j0 } = g.map
  const step = 4 * MIRROR_BLOCKS
  const wide = g.outWidth - (g.outWidth % step)
  if (wide === 0) return scalar(g, 0, g.outHeight, 0, g.outWidth)
  const body: Instr[] = []
  for (let q = 0; q < MIRROR_BLOCKS; q++) {
    // Mirrored, output columns j + 4q … j + 4q + 3 read source columns j0 − j − 4q − 3 … j0 − j − 4q, reversed.
    if (mirrored) body.push(get(SRC_P), ['v128.load', 4 * (step - 4 - 4 * q)], set(V), get(DST_P), get(V), get(V), ['i8x16.shuffle', REVERSED], ['v128.store', 16 * q])
    else body.push(get(DST_P), get(SRC_P), ['v128.load', 16 * q], ['v128.store', 16 * q])
  }
  // The lowest source address a row's first step reads: column j0, or j0 − (step − 1) for a mirror.
  const firstColumn = mirrored ? j0 - (step - 1) : j0
  return [
    ...offsetOf(ROW_SRC, SRC, 4 * (i0 * g.inWidth + firstColumn)),
    get(DST), set(DST_ROW),
    ...offsetOf(END, DST, 4 * g.outHeight * g.outWidth),
    ['loop'],
    get(ROW_SRC), set(SRC_P), get(DST_ROW), set(DST_P),
    ...offsetOf(ROW_END, DST_ROW, 4 * wide),
    ['loop'],
    ...body,
    ...add(SRC_P, (mirrored ? -4 : 4) * step),
    ...add(DST_P, 4 * step),
    ...until(DST_P, ROW_END),
    ['end'],
    ...add(ROW_SRC, ii * 4 * g.inWidth),
    ...add(DST_ROW, 4 * g.outWidth),
    ...until(DST_ROW, END),
    ['end'],
    ...scalar(g, 0, g.outHeight, wide, g.outWidth),
  ]
}

/**
 * Refuses a gather whose sizes are not positive integers, whose map is neither shape, or that would
 * read outside the source plane: the module reads only the planes copied in, and must not be built
 * to read anything else.
 */
const checkGather = (g: WasmGather): 'transpose' | 'mirror' | 'rows' => {
  for (const n of [g.inHeight, g.inWidth, g.outHeight, g.outWidth]) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`wasm renderer: plane size ${n} is not a positive integer`)
  }
  const shape = wasmShape(g.map)
  if (shape === undefined) throw new RangeError('wasm renderer: the map neither swaps the axes nor mirrors or copies the rows')
  const m = g.map
  for (const [i, j] of [[0, 0], [0, g.outWidth - 1], [g.outHeight - 1, 0], [g.outHeight - 1, g.outWidth - 1]] as const) {
    const si = m.ii * i + m.ij * j + m.i0
    const sj = m.ji * i + m.jj * j + m.j0
    if (!Number.isSafeInteger(si) || !Number.isSafeInteger(sj) || si < 0 || si >= g.inHeight || sj < 0 || sj >= g.inWidth) {
      throw new RangeError(`wasm renderer: output (${i}, ${j}) would read (${si}, ${sj}) outside the ${g.inHeight}×${g.inWidth} source`)
    }
  }
  return shape
}

/** The module for a gather: one function `gather(src, dst, planes)`. */
export const renderWasm = (g: WasmGather): WasmModule => {
  const shape = checkGather(g)
  const plane = shape === 'transpose' ? transposePlane(g) : rowPlane(g, shape === 'mirror')
  return {
    functions: [{
      name: 'gather',
      params: 3,
      locals: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128'],
      body: [
        ['block'],
        get(PLANES), ['i32.eqz'], ['br_if', 0],
        ['loop'],
        ...plane,
        ...add(SRC, 4 * g.inHeight * g.inWidth),
        ...add(DST, 4 * g.outHeight * g.outWidth),
        ...add(PLANES, -1),
        get(PLANES), ['br_if', 0],
        ['end'],
        ['end'],
      ],
    }],
  }
}
