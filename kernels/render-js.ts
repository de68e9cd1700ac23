/**
 * Renders a `GatherKernel` as a plain JavaScript function for the CPU.
 *
 * The affine maps are folded into strides, so the inner loop of a flip/turn/crop is a strided walk
 * (`k += stride`), and a row-contiguous map with a plain store becomes `dst.set(src.subarray(…))`:
 * one per plane (or one for all planes) when whole rows are copied in order, one per plane plus the
 * engine's native `reverse` for a half turn, one per row otherwise. (Quarter turns and mirrored rows
 * of plain stores go to WebAssembly where it runs: kernels/render-wasm.)
 * Numbers enter the source only through {@link int} and {@link real}, which refuse anything that is
 * not a finite number; taps and weights are passed as typed arrays.
 *
 * The generated function is `(src, srcBase, dst, dstBase, rowIndex, rowWeight, colIndex, colWeight)`
 * and returns the first output index whose value a reducing write refused, or -1.
 *
 * @since 0.2.0
 */
import { preSteps, type GatherKernel, type WriteMode } from './ir.js'

/** A validated integer literal. */
export const int = (n: number): string => {
  if (!Number.isSafeInteger(n)) throw new RangeError(`kernel renderer: ${n} is not a safe integer`)
  return String(n)
}

/** A validated real literal that round-trips exactly. */
export const real = (n: number): string => {
  if (!Number.isFinite(n)) throw new RangeError(`kernel renderer: ${n} is not a finite number`)
  return Object.is(n, -0) ? '-0' : String(n)
}

/** The statement that writes `v` into `dst[o]`, with the refusal check of reducing writes. */
const writeStatement = (write: WriteMode): string => {
  switch (write) {
    case 'store': return 'dst[o] = v;'
    case 'add': return 'if (v !== v && bad < 0) bad = o; dst[o] += v;'
    case 'add-log': return 'if (!(v >= 0) && bad < 0) bad = o; dst[o] += Math.log(v);'
    case 'add-sqrt': return 'if (!(v >= 0) && bad < 0) bad = o; dst[o] += Math.sqrt(v);'
    case 'max': return 'if (v !== v && bad < 0) bad = o; if (v > dst[o]) dst[o] = v;'
    case 'min': return 'if (v !== v && bad < 0) bad = o; if (v < dst[o]) dst[o] = v;'
  }
}

/**
 * The value written for a sampled `x`. A resample's sum is float64; it is rounded to float32 first
 * (`rounded`), as the reference rounds every stage's output, so a merge (which adds into float64)
 * and a pointwise stage after it see the values the reference sees.
 */
const affineValue = (scale: number, shift: number, rounded = false): string => {
  const x = rounded ? 'Math.fround(x)' : 'x'
  return scale === 1 && shift === 0 ? x : scale === 1 ? `${x} + ${real(shift)}` : shift === 0 ? `${x} * ${real(scale)}` : `${x} * ${real(scale)} + ${real(shift)}`
}

/** Reads the source at (si, sj) of plane base `s`, honouring the kernel's fill outside the plane. */
export const readSource = (k: GatherKernel, si: string, sj: string): string => {
  if (k.fill === undefined) return `src[s + (${si}) * ${int(k.inWidth)} + (${sj})]`
  switch (k.fill) {
    case 'zeros': return `((${si}) >= 0 && (${si}) < ${int(k.inHeight)} && (${sj}) >= 0 && (${sj}) < ${int(k.inWidth)} ? src[s + (${si}) * ${int(k.inWidth)} + (${sj})] : 0)`
    case 'edge': return `src[s + Math.min(Math.max(${si}, 0), ${int(k.inHeight - 1)}) * ${int(k.inWidth)} + Math.min(Math.max(${sj}, 0), ${int(k.inWidth - 1)})]`
  }
}

/**
 * The loop over planes and output rows every kernel shares; `origin` (when given) is folded into
 * each plane's source base, and `row` is the code for output row `i`.
 */
const planeLoop = (k: GatherKernel, origin: number | undefined, row: string): string => `
  let bad = -1;
  for (let p = 0; p < ${int(k.planes)}; p++) {
    const s = srcBase + p * ${int(k.inHeight * k.inWidth)}${origin === undefined ? '' : ` + ${int(origin)}`};
    const d = dstBase + p * ${int(k.outHeight * k.outWidth)};
    for (let i = 0; i < ${int(k.outHeight)}; i++) {
      ${row}
    }
  }
  return bad;`

/** An output row computed pixel by pixel: `frame` finds the frame position, `sample` reads `x`. */
const pixelRow = (k: GatherKernel, frame: string, sample: string): string => `let x = 0, v = 0, o = d + i * ${int(k.outWidth)};
      for (let j = 0; j < ${int(k.outWidth)}; j++, o++) {
        ${frame}
        ${sample}
        v = ${affineValue(k.scale, k.shift, k.resample !== undefined)};
        ${writeStatement(k.write)}
      }`

/** The frame position (a, b) of output (i, j) through the kernel's post map. */
const postFrame = (k: GatherKernel): string => `const a = ${int(k.post.ii)} * i + ${int(k.post.ij)} * j + ${int(k.post.i0)};
        const b = ${int(k.post.ji)} * i + ${int(k.post.jj)} * j + ${int(k.post.j0)};`

/** The body of a kernel whose source positions may fall outside the plane (after a translation). */
const boundedBody = (k: GatherKernel): string => {
  const pre = k.pre
  const frame = k.resample === undefined ? `const a = i, b = j;` : postFrame(k)
  const at = (r: string, c: string): string =>
    readSource(k, `${int(pre.ii)} * ${r} + ${int(pre.ij)} * ${c} + ${int(pre.i0)}`, `${int(pre.ji)} * ${r} + ${int(pre.jj)} * ${c} + ${int(pre.j0)}`)
  const sample = k.resample === undefined
    ? `x = ${at('a', 'b')};`
    : `x = 0;
        for (let t = 0; t < ${int(k.resample.rows.taps)}; t++) {
          const r = rowIndex[a * ${int(k.resample.rows.taps)} + t];
          let inner = 0;
          for (let u = 0; u < ${int(k.resample.cols.taps)}; u++) { const c = colIndex[b * ${int(k.resample.cols.taps)} + u]; inner += ${at('r', 'c')} * colWeight[b * ${int(k.resample.cols.taps)} + u]; }
          x += inner * rowWeight[a * ${int(k.resample.rows.taps)} + t];
        }`
  return planeLoop(k, undefined, pixelRow(k, frame, sample))
}

/** The body for a kernel with no resample: one affine map from output to source. */
const gatherBody = (k: GatherKernel): string => {
  // Compose post (output → frame) with pre (frame → source): with no resample, post is the identity
  // of the output, so pre alone maps output to source. Source steps when i and when j grow by 1:
  const { row: rowStride, col: colStride, origin } = preSteps(k)
  const plain = k.write === 'store' && k.scale === 1 && k.shift === 0
  // Whole rows of the source, in order: each plane is one block (and all planes one, uncropped).
  // The engine's native copy and reverse beat any JavaScript loop, and one call per plane beats one per row.
  if (plain && colStride === 1 && rowStride === k.inWidth && k.outWidth === k.inWidth) {
    const outPlane = k.outHeight * k.outWidth
    return k.outHeight === k.inHeight
      ? `
  dst.set(src.subarray(srcBase, srcBase + ${int(k.planes * outPlane)}), dstBase);
  return -1;`
      : `
  for (let p = 0; p < ${int(k.planes)}; p++) {
    const s = srcBase + p * ${int(k.inHeight * k.inWidth)} + ${int(origin)};
    dst.set(src.subarray(s, s + ${int(outPlane)}), dstBase + p * ${int(outPlane)});
  }
  return -1;`
  }
  // Whole rows of the source, backwards and mirrored (a half turn): each plane is one block, reversed in place.
  if (plain && colStride === -1 && rowStride === -k.inWidth && k.outWidth === k.inWidth) {
    const outPlane = k.outHeight * k.outWidth
    return `
  for (let p = 0; p < ${int(k.planes)}; p++) {
    const s = srcBase + p * ${int(k.inHeight * k.inWidth)} + ${int(origin)};
    const d = dstBase + p * ${int(outPlane)};
    dst.set(src.subarray(s - ${int(outPlane - 1)}, s + 1), d);
    dst.subarray(d, d + ${int(outPlane)}).reverse();
  }
  return -1;`
  }
  const inner = plain && colStride === 1
    ? `dst.set(src.subarray(s + r, s + r + ${int(k.outWidth)}), d + i * ${int(k.outWidth)});`
    // A mirrored row: copy it, then let the engine's native reverse flip it in place.
    : plain && colStride === -1 && k.outWidth > 1
      ? `dst.set(src.subarray(s + r - ${int(k.outWidth - 1)}, s + r + 1), d + i * ${int(k.outWidth)}); dst.subarray(d + i * ${int(k.outWidth)}, d + (i + 1) * ${int(k.outWidth)}).reverse();`
      : `let x = 0, v = 0, o = d + i * ${int(k.outWidth)}, q = s + r;
        for (let j = 0; j < ${int(k.outWidth)}; j++, o++, q += ${int(colStride)}) { x = src[q]; v = ${affineValue(k.scale, k.shift)}; ${writeStatement(k.write)} }`
  return planeLoop(k, origin, `const r = i * ${int(rowStride)};
      ${inner}`)
}

/** The body for a kernel with a separable resample between two affine maps. */
const resampleBody = (k: GatherKernel, rowTaps: number, colTaps: number): string => {
  // Source offset of frame position (a, b): a·aStride + b·bStride + origin.
  const { row: aStride, col: bStride, origin } = preSteps(k)
  const nearest = rowTaps === 1 && colTaps === 1
  const sample = nearest
    ? `x = src[s + rowIndex[a] * ${int(aStride)} + colIndex[b] * ${int(bStride)}];`
    : `x = 0;
          for (let t = 0; t < ${int(rowTaps)}; t++) {
            const ra = s + rowIndex[a * ${int(rowTaps)} + t] * ${int(aStride)};
            let inner = 0;
            for (let u = 0; u < ${int(colTaps)}; u++) inner += src[ra + colIndex[b * ${int(colTaps)} + u] * ${int(bStride)}] * colWeight[b * ${int(colTaps)} + u];
            x += inner * rowWeight[a * ${int(rowTaps)} + t];
          }`
  return planeLoop(k, origin, pixelRow(k, postFrame(k), sample))
}

/**
 * Slots in the row cache of {@link cachedRowsBody}: the smallest power of two at least twice the
 * row taps, so that the frame rows one output row reads (consecutive but for clamped repeats, at
 * most `taps` apart) never share a slot; undefined when some output row's rows are spread wider.
 */
export const rowCacheSlots = (rows: { readonly taps: number; readonly index: Int32Array }): number | undefined => {
  let slots = 1
  while (slots < 2 * rows.taps) slots *= 2
  for (let at = 0; at < rows.index.length; at += rows.taps) {
    let low = Number.POSITIVE_INFINITY
    let high = Number.NEGATIVE_INFINITY
    for (let t = 0; t < rows.taps; t++) {
      const r = rows.index[at + t] ?? 0
      low = Math.min(low, r)
      high = Math.max(high, r)
    }
    if (high - low >= slots) return undefined
  }
  return slots
}

/**
 * A separable resample in two passes, when each output row — or, after a quarter turn, each output
 * column — reads one frame row: each source row the taps name is resampled along its columns once,
 * into a small cache of float64 rows, and every output value is then the weighted sum of its
 * column in the cached rows. The per-pixel form reads `rowTaps × colTaps` source values per output
 * and repeats the column pass for every output row that shares a source row (about 1.5× for a 1.5×
 * upscale); here each output reads `rowTaps` cached values. The sums are the same float64
 * operations in the same order, so the values are bit-identical to the per-pixel form. After a
 * turn the outputs of one frame row are a column of the view: written a column at a time.
 */
const cachedRowsBody = (k: GatherKernel, resample: NonNullable<GatherKernel['resample']>, slots: number): string => {
  const { post } = k
  const rowTaps = resample.rows.taps
  const colTaps = resample.cols.taps
  const { row: aStride, col: bStride, origin } = preSteps(k)
  // Width of the resample's output frame: the column pass fills every position of it.
  const frameWidth = resample.cols.index.length / colTaps
  // Frame row a = aStep·line + i0 for output line `line` (a row, or a column after a turn), and
  // frame column b = bStep·n + j0 for the n-th output along that line, at o = line·lineStep + n·outStep.
  const turned = post.ii === 0
  const [lines, along] = turned ? [k.outWidth, k.outHeight] : [k.outHeight, k.outWidth]
  const [aStep, bStep] = turned ? [post.ij, post.ji] : [post.ii, post.jj]
  const [lineStep, outStep] = turned ? [1, k.outWidth] : [k.outWidth, 1]
  const taps = (count: number, each: (t: number) => string, join: string): string => Array.from({ length: count }, (_, t) => each(t)).join(join)
  const columnSum = taps(colTaps, (u) => `inner += src[ra + colIndex[c + ${int(u)}] * ${int(bStride)}] * colWeight[c + ${int(u)}];`, ' ')
  const rowSum = taps(rowTaps, (t) => `x += cache[row${int(t)} + b] * weight${int(t)};`, ' ')
  return `
  let bad = -1;
  const cache = new Float64Array(${int(slots * frameWidth)});
  const held = new Int32Array(${int(slots)});
  for (let p = 0; p < ${int(k.planes)}; p++) {
    const s = srcBase + p * ${int(k.inHeight * k.inWidth)} + ${int(origin)};
    const d = dstBase + p * ${int(k.outHeight * k.outWidth)};
    held.fill(-1);
    for (let line = 0; line < ${int(lines)}; line++) {
      const a = ${int(aStep)} * line + ${int(post.i0)};
      for (let t = 0; t < ${int(rowTaps)}; t++) {
        const r = rowIndex[a * ${int(rowTaps)} + t], slot = r & ${int(slots - 1)};
        if (held[slot] === r) continue;
        held[slot] = r;
        const ra = s + r * ${int(aStride)};
        for (let b = 0, c = 0, at = slot * ${int(frameWidth)}; b < ${int(frameWidth)}; b++, c += ${int(colTaps)}, at++) {
          let inner = 0;
          ${columnSum}
          cache[at] = inner;
        }
      }
      ${taps(rowTaps, (t) => `const row${int(t)} = (rowIndex[a * ${int(rowTaps)} + ${int(t)}] & ${int(slots - 1)}) * ${int(frameWidth)}, weight${int(t)} = rowWeight[a * ${int(rowTaps)} + ${int(t)}];`, '\n      ')}
      let x = 0, v = 0, o = d + line * ${int(lineStep)}, b = ${int(post.j0)};
      for (let n = 0; n < ${int(along)}; n++, o += ${int(outStep)}, b += ${int(bStep)}) {
        x = 0;
        ${rowSum}
        v = ${affineValue(k.scale, k.shift, true)};
        ${writeStatement(k.write)}
      }
    }
  }
  return bad;`
}

/** Most float64 values in a kernel's row cache (8 MiB). */
const MAX_CACHED_VALUES = 1 << 20

/**
 * A resample kernel's body: rows through a cache when the map after the resample keeps rows as
 * rows or turns them into columns, and more than one tap is read per output (a single tap has
 * nothing to share); per pixel otherwise.
 */
const resampleOf = (k: GatherKernel, resample: NonNullable<GatherKernel['resample']>): string => {
  const { post } = k
  const lineMap = (post.ij === 0 && post.ji === 0) || (post.ii === 0 && post.jj === 0)
  const slots = lineMap && resample.rows.taps * resample.cols.taps > 1 ? rowCacheSlots(resample.rows) : undefined
  // The cache is allocated per call: a few rows of the frame. An area average over hundreds of
  // rows of a wide frame would need far more (a row per tap), and gains nothing: per pixel then.
  const cached = slots !== undefined && slots * (resample.cols.index.length / resample.cols.taps) <= MAX_CACHED_VALUES
  return cached ? cachedRowsBody(k, resample, slots) : resampleBody(k, resample.rows.taps, resample.cols.taps)
}

/** The function source for a kernel (a `function` expression). */
export const renderJs = (k: GatherKernel): string => {
  const body = k.fill !== undefined ? boundedBody(k)
    : k.resample === undefined ? gatherBody(k) : resampleOf(k, k.resample)
  return `function gather(src, srcBase, dst, dstBase, rowIndex, rowWeight, colIndex, colWeight) {${body}\n}`
}
