/**
 * Renders a `GatherKernel` as gpu.js kernel source: one thread per output value, over gpu.js's 3-D
 * output `[width, height, planes]` (gpu.js truncates 4-D outputs, so N·C planes are one axis).
 * A reducing write reads the running merge `acc` and returns the new value; the host copies it back.
 *
 * gpu.js computes indices in float32 in some modes, so the caller must keep every flat index below
 * 2^24 ({@link fitsFloat32Indices}).
 *
 * @since 0.2.0
 */
import { preSteps, type GatherKernel, type WriteMode } from './ir.js'
import { int, real } from './render-js.js'

/** Largest flat index gpu.js can address exactly when it computes indices in float32. */
export const float32IndexLimit = 2 ** 24

/** True when every flat index of the kernel's source, output and accumulator is exact in float32. */
export const fitsFloat32Indices = (k: GatherKernel, srcLength: number): boolean =>
  srcLength < float32IndexLimit && k.planes * k.outHeight * k.outWidth < float32IndexLimit

const result = (write: WriteMode, at: string): string => {
  switch (write) {
    case 'store': return 'return v;'
    case 'add': return `return acc[${at}] + v;`
    case 'add-log': return `return acc[${at}] + Math.log(v);`
    case 'add-sqrt': return `return acc[${at}] + Math.sqrt(v);`
    case 'max': return `return Math.max(acc[${at}], v);`
    case 'min': return `return Math.min(acc[${at}], v);`
  }
}

/** The kernel function source for gpu.js's `createKernel` (arguments: src, srcBase, acc, rowIndex, rowWeight, colIndex, colWeight). */
export const renderGpuJs = (k: GatherKernel): string => {
  const pre = k.pre
  const post = k.post
  const { row: aStride, col: bStride, origin } = preSteps(k)
  const outIndex = `p * ${int(k.outHeight * k.outWidth)} + i * ${int(k.outWidth)} + j`
  // Source read at frame position (r, c): plain when the map stays inside, bounded after a translation.
  const at = (r: string, c: string): string => {
    if (k.fill === undefined) return `src[s + ${r} * ${int(aStride)} + ${c} * ${int(bStride)}]`
    const si = `(${int(pre.ii)} * ${r} + ${int(pre.ij)} * ${c} + ${int(pre.i0)})`
    const sj = `(${int(pre.ji)} * ${r} + ${int(pre.jj)} * ${c} + ${int(pre.j0)})`
    const plane = `(srcBase + p * ${int(k.inHeight * k.inWidth)})`
    const clamped = `src[${plane} + Math.min(Math.max(${si}, 0), ${int(k.inHeight - 1)}) * ${int(k.inWidth)} + Math.min(Math.max(${sj}, 0), ${int(k.inWidth - 1)})]`
    if (k.fill === 'edge') return clamped
    return `(${si} >= 0 && ${si} < ${int(k.inHeight)} && ${sj} >= 0 && ${sj} < ${int(k.inWidth)} ? ${clamped} : 0)`
  }
  const sample = k.resample === undefined
    ? `x = ${at('i', 'j')};`
    : `const a = ${int(post.ii)} * i + ${int(post.ij)} * j + ${int(post.i0)};
  const b = ${int(post.ji)} * i + ${int(post.jj)} * j + ${int(post.j0)};
  for (let t = 0; t < ${int(k.resample.rows.taps)}; t++) {
    let inner = 0;
    for (let u = 0; u < ${int(k.resample.cols.taps)}; u++) {
      inner += ${at(`rowIndex[a * ${int(k.resample.rows.taps)} + t]`, `colIndex[b * ${int(k.resample.cols.taps)} + u]`)} * colWeight[b * ${int(k.resample.cols.taps)} + u];
    }
    x += inner * rowWeight[a * ${int(k.resample.rows.taps)} + t];
  }`
  return `function (src, srcBase, acc, rowIndex, rowWeight, colIndex, colWeight) {
  const p = this.thread.z;
  const i = this.thread.y;
  const j = this.thread.x;
  const s = srcBase + p * ${int(k.inHeight * k.inWidth)} + ${int(origin)};
  let x = 0;
  ${sample}
  const v = x * ${real(k.scale)} + ${real(k.shift)};
  ${result(k.write, outIndex)}
}`
}
