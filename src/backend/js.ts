/**
 * The default CPU backend: each view's stages are lowered to kernels and rendered as plain
 * JavaScript (kernels/render-js), compiled once per distinct kernel and cached. Measured here,
 * gpu.js's CPU fallbacks ran the same gathers 1.1–2× slower than these loops.
 *
 * @since 0.2.0
 */
import type { GatherKernel, Kernel, WriteMode } from '../../kernels/ir.js'
import { lower } from '../../kernels/lower.js'
import { renderJs } from '../../kernels/render-js.js'
import type { Stage } from '../transform/step.js'
import type { Backend, PlaneBlock } from './backend.js'
import { runStage } from './reference/execute.js'
import { reduceValue } from './reference/backend.js'

type Compiled = (
  src: Float32Array | Float64Array, srcBase: number, dst: Float32Array | Float64Array, dstBase: number,
  rowIndex: Int32Array, rowWeight: Float64Array, colIndex: Int32Array, colWeight: Float64Array,
) => number

const emptyIndex = new Int32Array(0)
const emptyWeight = new Float64Array(0)

/** Compiled functions, keyed by their source: equal kernels share one function. */
const cache = new Map<string, Compiled>()

const compile = (kernel: GatherKernel): Compiled => {
  const source = renderJs(kernel)
  const hit = cache.get(source)
  if (hit !== undefined) return hit
  // The source comes only from kernels/render-js, built from validated numbers (see int/real there).
  const made: unknown = new Function(`return ${source}`)()
  if (typeof made !== 'function') throw new TypeError('kernel renderer produced no function')
  const fn: Compiled = (...args) => {
    const r: unknown = Reflect.apply(made, undefined, args)
    return typeof r === 'number' ? r : -1
  }
  if (cache.size > 512) cache.clear()
  cache.set(source, fn)
  return fn
}

const launch = (kernel: GatherKernel, src: Float32Array | Float64Array, srcBase: number, dst: Float32Array | Float64Array, dstBase: number): number =>
  compile(kernel)(
    src, srcBase, dst, dstBase,
    kernel.resample?.rows.index ?? emptyIndex, kernel.resample?.rows.weight ?? emptyWeight,
    kernel.resample?.cols.index ?? emptyIndex, kernel.resample?.cols.weight ?? emptyWeight,
  )

/** Runs kernels in sequence; all but the last write into temporaries. */
const runKernels = (kernels: readonly Kernel[], src: PlaneBlock<Float32Array>, dst: Float32Array | Float64Array, dstBase: number): number => {
  let data: Float32Array = src.data
  let base = src.offset
  let height = src.height
  let width = src.width
  for (const [index, kernel] of kernels.entries()) {
    const last = index === kernels.length - 1
    if (kernel.kind === 'opaque') {
      const out = runStage({ data: data.subarray(base, base + src.planes * height * width), planes: src.planes, height, width }, kernel.stage)
      if (last) {
        // An opaque stage at the end: write its output through an identity reduce.
        for (let o = 0; o < out.data.length; o++) dst[dstBase + o] = out.data[o] ?? Number.NaN
        return -1
      }
      data = out.data
      base = 0
      height = out.height
      width = out.width
      continue
    }
    if (last) return launch(kernel, data, base, dst, dstBase)
    const tmp = new Float32Array(kernel.planes * kernel.outHeight * kernel.outWidth)
    launch(kernel, data, base, tmp, 0)
    data = tmp
    base = 0
    height = kernel.outHeight
    width = kernel.outWidth
  }
  return -1
}

const lastIsOpaque = (kernels: readonly Kernel[]): boolean => kernels[kernels.length - 1]?.kind === 'opaque'

/**
 * The default CPU backend: each view's fused stages run as generated JavaScript, compiled once per
 * kernel. `reduce` maps a prediction back and merges it in the same pass, and reports the first
 * value the merge refuses.
 * @example
 * import { jsBackend, orThrow, resolveAugment, dihedral4 } from 'tta-lens'
 * const mirror = orThrow(resolveAugment([{ op: 'd4', element: dihedral4.d4(0, true) }], 2, 3))
 * const src = { data: Float32Array.of(1, -1, 1, 1, 1, 1), offset: 0, planes: 1, height: 2, width: 3 }
 * const acc = new Float64Array(6)
 * assert.strictEqual(jsBackend().reduce(mirror, src, acc, 'add'), -1)       // all accepted
 * assert.strictEqual(acc[1], -1)
 * assert.strictEqual(jsBackend().reduce(mirror, src, acc, 'add-log'), 1)   // log of -1: refused at index 1
 * @category constructors
 */
export const jsBackend = (): Backend => ({
  name: 'js',
  detail: 'js: generated JavaScript kernels (one fused gather per view where the chain allows)',
  augment: (stages: readonly Stage[], src, dst, dstOffset) => {
    runKernels(lower(stages, src.planes, src.height, src.width, 'store'), src, dst, dstOffset)
  },
  reduce: (stages: readonly Stage[], src, acc, write: WriteMode) => {
    const kernels = lower(stages, src.planes, src.height, src.width, write)
    if (!lastIsOpaque(kernels)) return runKernels(kernels, src, acc, 0)
    const tmp = new Float64Array(acc.length)
    runKernels(kernels, src, tmp, 0)
    let bad = -1
    for (let o = 0; o < tmp.length; o++) if (!reduceValue(acc, o, tmp[o] ?? Number.NaN, write) && bad < 0) bad = o
    return bad
  },
})
