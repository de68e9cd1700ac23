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
 * A resample into a batch ({@link renderWasmResample}) is the other module: the JavaScript row
 * cache of kernels/render-js in WebAssembly — each source row the row taps name resampled along its
 * columns once (scalar float64, the column taps as byte offsets), each output row then summed from
 * the cached rows two float64 lanes at a time and rounded to float32 four values a store — the same
 * operations in the same order, so the same values.
 *
 * The generated function is `gather(src, dst, planes)`: byte offsets of the first source and output
 * plane in the imported memory, and how many consecutive planes to gather. Every number in it comes
 * from the kernel's validated sizes and map ({@link renderWasm} refuses a map that would read outside
 * the source plane).
 *
 * @since 0.3.0
 */
import { identityMap, type AffineIndexMap } from '../src/transform/d4.js'
import { preSteps, type GatherKernel } from './ir.js'
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

/** Runs `plane` (which moves the addresses on to the next plane) as many times as local `planes` says, none for 0. */
const overPlanes = (planes: number, plane: readonly Instr[]): Instr[] => [
  ['block'],
  get(planes), ['i32.eqz'], ['br_if', 0],
  ['loop'],
  ...plane,
  ...add(planes, -1),
  get(planes), ['br_if', 0],
  ['end'],
  ['end'],
]

/** The module for a gather: one function `gather(src, dst, planes)`. */
export const renderWasm = (g: WasmGather): WasmModule => {
  const shape = checkGather(g)
  const plane = shape === 'transpose' ? transposePlane(g) : rowPlane(g, shape === 'mirror')
  return {
    functions: [{
      name: 'gather',
      params: 3,
      locals: ['i32', 'i32', 'i32', 'i32', 'i32', 'i32', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128', 'v128'],
      body: overPlanes(PLANES, [...plane, ...add(SRC, 4 * g.inHeight * g.inWidth), ...add(DST, 4 * g.outHeight * g.outWidth)]),
    }],
  }
}

/**
 * A resample the WebAssembly batch path runs: a kernel whose one resample (two to four taps per
 * axis) writes rows of the view in order (no flip or turn after it; a crop is fine), from any
 * axis-aligned map of the source. Its tables (which source columns and rows, with which weights) are
 * written into the block's scratch memory before each call; the sizes are in the code.
 */
export interface WasmResample {
  readonly planes: number
  readonly inHeight: number
  readonly inWidth: number
  readonly outHeight: number
  readonly outWidth: number
  readonly rowTaps: number
  readonly colTaps: number
  /** Rows and columns of the resample's output frame (the tables' lengths over their taps). */
  readonly frameHeight: number
  readonly frameWidth: number
  /** Where the view starts in the frame (a crop after the resample). */
  readonly top: number
  readonly left: number
  /** Source floats from frame row r to r + 1, and from column c to c + 1 (the map before the resample). */
  readonly rowStride: number
  readonly colStride: number
  /** Slots of the row cache (a power of two, at least the span of one output row's source rows). */
  readonly slots: number
}

/** Byte offsets of the tables inside the scratch memory, and its size, for a resample. */
export const resampleLayout = (r: WasmResample): { readonly colWeight: number; readonly rowWeight: number; readonly cache: number; readonly colOffset: number; readonly rowIndex: number; readonly held: number; readonly bytes: number } => {
  const colWeight = 0
  const rowWeight = colWeight + 8 * r.frameWidth * r.colTaps
  const cache = rowWeight + 8 * r.frameHeight * r.rowTaps
  const colOffset = cache + 8 * r.slots * r.frameWidth
  const rowIndex = colOffset + 4 * r.frameWidth * r.colTaps
  const held = rowIndex + 4 * r.frameHeight * r.rowTaps
  return { colWeight, rowWeight, cache, colOffset, rowIndex, held, bytes: held + 4 * r.slots }
}

/** Most row-cache slots the WebAssembly resample unrolls. */
const MAX_RESAMPLE_SLOTS = 16

/**
 * The resample of `k` to run in WebAssembly straight into a batch, or undefined: only a plain
 * store (any scale and shift are finished afterwards, as for gathers) of a kernel whose frame rows
 * fill the view's rows in order, with 2–4 taps on each axis or one axis of one tap and the other
 * of more, and a row cache of at most 16 slots. `slots` is what kernels/render-js's row cache uses.
 */
export const wasmResampleOf = (k: GatherKernel, slots: number | undefined): WasmResample | undefined => {
  const rs = k.resample
  if (rs === undefined || k.fill !== undefined || k.write !== 'store' || slots === undefined || slots > MAX_RESAMPLE_SLOTS) return undefined
  const { post } = k
  const steps = preSteps(k)
  if (post.ii !== 1 || post.ij !== 0 || post.ji !== 0 || post.jj !== 1) return undefined
  const rowTaps = rs.rows.taps
  const colTaps = rs.cols.taps
  if (rowTaps > 4 || colTaps > 4 || rowTaps * colTaps < 2) return undefined
  return {
    planes: k.planes, inHeight: k.inHeight, inWidth: k.inWidth, outHeight: k.outHeight, outWidth: k.outWidth, rowTaps, colTaps,
    frameHeight: rs.rows.index.length / rowTaps, frameWidth: rs.cols.index.length / colTaps, top: post.i0, left: post.j0,
    rowStride: steps.row, colStride: steps.col, slots,
  }
}

/**
 * Writes a resample's tables into `scratch` (an ArrayBuffer region from byte `at`): the column
 * taps as byte offsets along a source row with their weights, the row taps as frame rows with
 * theirs, and the cache's slots marked empty.
 */
export const writeResampleTables = (r: WasmResample, k: GatherKernel, buffer: ArrayBuffer, at: number): void => {
  const rs = k.resample
  if (rs === undefined) throw new TypeError('writeResampleTables: the kernel does not resample')
  const lay = resampleLayout(r)
  new Float64Array(buffer, at + lay.colWeight, r.frameWidth * r.colTaps).set(rs.cols.weight)
  new Float64Array(buffer, at + lay.rowWeight, r.frameHeight * r.rowTaps).set(rs.rows.weight)
  const offsets = new Int32Array(buffer, at + lay.colOffset, r.frameWidth * r.colTaps)
  for (let q = 0; q < offsets.length; q++) offsets[q] = 4 * (rs.cols.index[q] ?? 0) * r.colStride
  new Int32Array(buffer, at + lay.rowIndex, r.frameHeight * r.rowTaps).set(rs.rows.index)
}

// The resample's locals: four i32 parameters (src, dst, planes, tables), then these.
const R_SRC = 0
const R_DST = 1
const R_PLANES = 2
const R_TABLES = 3
const R_LINE_END = 4 // dst address past the plane's last row
const R_ROWS = 5 // address of the current output row's entries in the row-index table
const R_ROW_WEIGHTS = 6 // and in the row-weight table
const R_R = 7 // a frame row
const R_SLOT_AT = 8 // byte offset of a slot's cache row (then of its held entry)
const R_SRC_ROW = 9 // source address of frame row r
const R_CACHE_P = 10 // cache address being written
const R_CACHE_END = 11
const R_COL = 12 // column-offset table address
const R_COL_W = 13 // column-weight table address
const R_OUT = 14 // output address
const R_OUT_END = 15
const R_ROW_AT = 16 // 16..19: cache row address of tap t (plus the crop's left), for the vertical pass
const R_INNER = 20 // f64: a column sum
const R_WEIGHT = 21 // 21..24: f64 row weights
const R_WV = 25 // 25..28: v128 splatted row weights
const R_LO = 29 // v128 sums of two outputs
const R_HI = 30

/** The module for a resample: one function `gather(src, dst, planes, tables)` (byte addresses). */
export const renderWasmResample = (r: WasmResample): WasmModule => {
  for (const n of [r.planes, r.inHeight, r.inWidth, r.outHeight, r.outWidth, r.frameHeight, r.frameWidth, r.slots]) {
    if (!Number.isSafeInteger(n) || n < 1) throw new RangeError(`wasm renderer: resample size ${n} is not a positive integer`)
  }
  if (r.top < 0 || r.left < 0 || r.top + r.outHeight > r.frameHeight || r.left + r.outWidth > r.frameWidth) throw new RangeError('wasm renderer: the view is not inside the resample\'s frame')
  if (r.slots > MAX_RESAMPLE_SLOTS || (r.slots & (r.slots - 1)) !== 0) throw new RangeError(`wasm renderer: ${r.slots} cache slots is not a power of two up to ${MAX_RESAMPLE_SLOTS}`)
  const lay = resampleLayout(r)
  const rowBytes = 8 * r.frameWidth
  const tab = (offset: number): Instr[] => [get(R_TABLES), ['i32.const', offset], ['i32.add']]
  // Each of the output row's frame rows, resampled along its columns into its slot unless it is there.
  const fill: Instr[] = []
  for (let t = 0; t < r.rowTaps; t++) {
    const columnSum: Instr[] = [['f64.const', 0], set(R_INNER)]
    for (let u = 0; u < r.colTaps; u++) {
      columnSum.push(
        get(R_INNER),
        get(R_SRC_ROW), get(R_COL), ['i32.load', 4 * u], ['i32.add'], ['f32.load', 0], ['f64.promote_f32'],
        get(R_COL_W), ['f64.load', 8 * u], ['f64.mul'], ['f64.add'], set(R_INNER),
      )
    }
    fill.push(
      ['block'],
      get(R_ROWS), ['i32.load', 4 * t], set(R_R),
      // held[slot] === r: nothing to do.
      get(R_R), ['i32.const', r.slots - 1], ['i32.and'], ['i32.const', 4], ['i32.mul'], set(R_SLOT_AT),
      get(R_TABLES), get(R_SLOT_AT), ['i32.add'], ['i32.load', lay.held], get(R_R), ['i32.eq'], ['br_if', 0],
      get(R_TABLES), get(R_SLOT_AT), ['i32.add'], get(R_R), ['i32.store', lay.held],
      get(R_SRC), get(R_R), ['i32.const', 4 * r.rowStride], ['i32.mul'], ['i32.add'], set(R_SRC_ROW),
      get(R_R), ['i32.const', r.slots - 1], ['i32.and'], ['i32.const', rowBytes], ['i32.mul'], ...tab(lay.cache), ['i32.add'], set(R_CACHE_P),
      get(R_CACHE_P), ['i32.const', rowBytes], ['i32.add'], set(R_CACHE_END),
      ...tab(lay.colOffset), set(R_COL),
      ...tab(lay.colWeight), set(R_COL_W),
      ['loop'],
      ...columnSum,
      get(R_CACHE_P), get(R_INNER), ['f64.store', 0],
      ...add(R_COL, 4 * r.colTaps),
      ...add(R_COL_W, 8 * r.colTaps),
      ...add(R_CACHE_P, 8),
      ...until(R_CACHE_P, R_CACHE_END),
      ['end'],
      ['end'],
    )
  }
  // The output row: each value the weighted sum of its column in the cached rows, rounded to float32.
  const weights: Instr[] = []
  for (let t = 0; t < r.rowTaps; t++) {
    weights.push(
      get(R_ROWS), ['i32.load', 4 * t], ['i32.const', r.slots - 1], ['i32.and'], ['i32.const', rowBytes], ['i32.mul'], ...tab(lay.cache + 8 * r.left), ['i32.add'], set(R_ROW_AT + t),
      get(R_ROW_WEIGHTS), ['f64.load', 8 * t], set(R_WEIGHT + t),
      get(R_WEIGHT + t), ['f64x2.splat'], set(R_WV + t),
    )
  }
  const quads = r.outWidth - (r.outWidth % 4)
  const vectorSum = (half: number, into: number): Instr[] => {
    const out: Instr[] = [['f64.const', 0], ['f64x2.splat'], set(into)]
    for (let t = 0; t < r.rowTaps; t++) out.push(get(into), get(R_ROW_AT + t), ['v128.load', 16 * half], get(R_WV + t), ['f64x2.mul'], ['f64x2.add'], set(into))
    return out
  }
  const vertical: Instr[] = quads === 0 ? [] : [
    get(R_OUT), ['i32.const', 4 * quads], ['i32.add'], set(R_OUT_END),
    ['loop'],
    ...vectorSum(0, R_LO),
    ...vectorSum(1, R_HI),
    get(R_OUT), get(R_LO), ['f32x4.demote_f64x2_zero'], get(R_HI), ['f32x4.demote_f64x2_zero'], ['i8x16.shuffle', LOW_HALVES], ['v128.store', 0],
    ...Array.from({ length: r.rowTaps }, (_, t) => add(R_ROW_AT + t, 32)).flat(),
    ...add(R_OUT, 16),
    ...until(R_OUT, R_OUT_END),
    ['end'],
  ]
  const tail: Instr[] = []
  for (let n = quads; n < r.outWidth; n++) {
    const sum: Instr[] = [['f64.const', 0]]
    for (let t = 0; t < r.rowTaps; t++) sum.push(get(R_ROW_AT + t), ['f64.load', 8 * (n - quads)], get(R_WEIGHT + t), ['f64.mul'], ['f64.add'])
    tail.push(get(R_OUT), ...sum, ['f32.demote_f64'], ['f32.store', 4 * (n - quads)])
  }
  const clearHeld: Instr[] = Array.from({ length: r.slots }, (_, s): Instr[] => [...tab(lay.held + 4 * s), ['i32.const', -1], ['i32.store', 0]]).flat()
  const plane: Instr[] = [
    ...clearHeld,
    ...tab(lay.rowIndex + 4 * r.top * r.rowTaps), set(R_ROWS),
    ...tab(lay.rowWeight + 8 * r.top * r.rowTaps), set(R_ROW_WEIGHTS),
    get(R_DST), ['i32.const', 4 * r.outHeight * r.outWidth], ['i32.add'], set(R_LINE_END),
    ['loop'],
    ...fill,
    ...weights,
    get(R_DST), set(R_OUT),
    ...vertical,
    ...tail,
    ...add(R_ROWS, 4 * r.rowTaps),
    ...add(R_ROW_WEIGHTS, 8 * r.rowTaps),
    ...add(R_DST, 4 * r.outWidth),
    ...until(R_DST, R_LINE_END),
    ['end'],
  ]
  return {
    functions: [{
      name: 'gather',
      params: 4,
      locals: [...Array.from({ length: 16 }, () => 'i32' as const), ...Array.from({ length: 5 }, () => 'f64' as const), ...Array.from({ length: 6 }, () => 'v128' as const)],
      // The plane's rows move R_DST on to the next plane; the source moves by a plane.
      body: overPlanes(R_PLANES, [...plane, ...add(R_SRC, 4 * r.inHeight * r.inWidth)]),
    }],
  }
}
