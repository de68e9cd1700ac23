/**
 * The default CPU backend: each view's stages are lowered to kernels and rendered as plain
 * JavaScript (kernels/render-js), compiled once per distinct kernel and cached. Measured here,
 * gpu.js's CPU fallbacks ran the same gathers 1.1–2× slower than these loops.
 *
 * Quarter turns are the exception: read by columns, they cost a JavaScript loop 1–2 ns a value,
 * against a fraction of that for the native row copies of flips and crops. Where WebAssembly SIMD
 * runs, their transpose (and the reversal of mirrored rows, which would otherwise be a copy and a
 * native reverse per row) is rendered by kernels/render-wasm and run by ./wasm, and the rest of the
 * kernel (scale, shift, the merge's write) by the JavaScript renderer over the gathered rows.
 *
 * The plan interpreter asks for its model input through `batch`: where WebAssembly SIMD runs and
 * the plan's budget leaves room, the input is held in WebAssembly memory beside a copy of the
 * image, and each turn, mirror, half turn and vertical flip is one SIMD pass from the copy into the
 * input, with no copy in or out per view. A resample is run there too, by a WebAssembly module
 * (kernels/render-wasm: each source row resampled along its columns once into a row cache, the
 * rows then summed two float64 lanes at a time, the same sums as the JavaScript kernel), its
 * tables in room after the source; and a view that only flips, turns or crops what an earlier
 * view of the chunk resampled (`scale(1.5)` then `hflip`) is one pass over that view's values, so
 * the resample runs once per chunk.
 *
 * @since 0.2.0
 */
import { preSteps, type GatherKernel, type Kernel, type WriteMode } from '../../kernels/ir.js'
import { lower } from '../../kernels/lower.js'
import type { AffineIndexMap } from '../transform/d4.js'
import { renderJs, rowCacheSlots } from '../../kernels/render-js.js'
import { afterGather, wasmGatherOf, wasmResampleOf, type WasmGather, type WasmResample } from '../../kernels/render-wasm.js'
import type { Stage } from '../transform/step.js'
import { rangeKeepingBackend, type Backend, type BatchBuffer, type BatchRequest, type PlaneBlock } from './backend.js'
import { runStage } from './reference/execute.js'
import { reduceValue } from './reference/backend.js'
import { wasmKernels, type WasmKernels } from './wasm.js'

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

/**
 * Lowered kernels by stages and sizes. A plan's stages are immutable arrays reused for every chunk
 * and run, and lowering them (maps composed, resample tables built) cost more than a small view's
 * gather itself (measured: ~5 µs and its garbage per call, against a 0.13 ms copy of a 3 MiB view):
 * each array is lowered once per plane count, size and write.
 */
const lowered = new WeakMap<readonly Stage[], Map<string, readonly Kernel[]>>()
const lowerOnce = (stages: readonly Stage[], planes: number, height: number, width: number, write: WriteMode): readonly Kernel[] => {
  let bySize = lowered.get(stages)
  if (bySize === undefined) {
    bySize = new Map()
    lowered.set(stages, bySize)
  }
  const key = `${planes}x${height}x${width}:${write}`
  const hit = bySize.get(key)
  if (hit !== undefined) return hit
  const made = lower(stages, planes, height, width, write)
  if (bySize.size > 64) bySize.clear()
  bySize.set(key, made)
  return made
}

/** What a batch does with a kernel, decided once per kernel: its WebAssembly gather, or none. */
const batchGathers = new WeakMap<GatherKernel, WasmGather | null>()
const batchGatherOf = (kernel: GatherKernel): WasmGather | undefined => {
  let g = batchGathers.get(kernel)
  if (g === undefined) {
    g = wasmGatherOf(kernel, 'batch') ?? null
    batchGathers.set(kernel, g)
  }
  return g ?? undefined
}

/** What a batch does with a resampling kernel, decided once per kernel: its WebAssembly resample, or none. */
const batchResamples = new WeakMap<GatherKernel, WasmResample | null>()
const batchResampleOf = (kernel: GatherKernel): WasmResample | undefined => {
  let r = batchResamples.get(kernel)
  if (r === undefined) {
    r = kernel.resample === undefined ? null : wasmResampleOf(kernel, rowCacheSlots(kernel.resample.rows)) ?? null
    batchResamples.set(kernel, r)
  }
  return r ?? undefined
}

const launchJs = (kernel: GatherKernel, src: Float32Array | Float64Array, srcBase: number, dst: Float32Array | Float64Array, dstBase: number): number =>
  compile(kernel)(
    src, srcBase, dst, dstBase,
    kernel.resample?.rows.index ?? emptyIndex, kernel.resample?.rows.weight ?? emptyWeight,
    kernel.resample?.cols.index ?? emptyIndex, kernel.resample?.cols.weight ?? emptyWeight,
  )

/**
 * Runs one kernel: its quarter turn or mirrored rows through WebAssembly SIMD when `wasm` is given
 * (kernels/render-wasm says which kernels), everything else as generated JavaScript.
 */
const launch = (wasm: WasmKernels | undefined, kernel: GatherKernel, src: Float32Array, srcBase: number, dst: Float32Array | Float64Array, dstBase: number): number => {
  const gather = wasm === undefined ? undefined : wasmGatherOf(kernel)
  if (wasm !== undefined && gather !== undefined) {
    let bad = -1
    // The gathered rows are contiguous and forward: the kernel's write finishes them as an identity
    // map. Blocks come in at most two sizes (bands and a last band, or groups and a last group), so
    // each size's function is looked up once per launch rather than once per block.
    const finish = new Map<number, Compiled>()
    const failed = wasm.gather(gather, src, srcBase, (data, base, at, rows) => {
      let run = finish.get(rows)
      if (run === undefined) {
        run = compile(afterGather(kernel, rows))
        finish.set(rows, run)
      }
      const refused = run(data, base, dst, dstBase + at * kernel.outWidth, emptyIndex, emptyWeight, emptyIndex, emptyWeight)
      if (refused >= 0 && bad < 0) bad = refused
    })
    // Nothing was written when it failed (memory, compilation): the JavaScript kernel does it all.
    if (failed === undefined) return bad
  }
  return launchJs(kernel, src, srcBase, dst, dstBase)
}

/** Runs kernels in sequence; all but the last write into temporaries. */
const runKernels = (wasm: WasmKernels | undefined, kernels: readonly Kernel[], src: PlaneBlock<Float32Array>, dst: Float32Array | Float64Array, dstBase: number): number => {
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
    if (last) return launch(wasm, kernel, data, base, dst, dstBase)
    const tmp = new Float32Array(kernel.planes * kernel.outHeight * kernel.outWidth)
    launch(wasm, kernel, data, base, tmp, 0)
    data = tmp
    base = 0
    height = kernel.outHeight
    width = kernel.outWidth
  }
  return -1
}

/**
 * A chunk's model input in WebAssembly memory, beside a copy of the source planes made on the
 * chunk's first turn or mirror: each turn or mirror (half turns included) is then one SIMD pass
 * from the copy straight into the input, finished in place when it scales or shifts; every other
 * view is written by the same kernels as `augment`, reading the caller's planes. Undefined when the
 * block would not fit `maxBytes` or the engine will not make it: the interpreter then allocates
 * the input itself.
 */
const wasmBatch = (wasm: WasmKernels, request: BatchRequest): BatchBuffer | undefined => {
  const block = wasm.batch(request.length, request.sourceLength, request.maxBytes)
  if (typeof block === 'string') return undefined
  let src: PlaneBlock | undefined
  /** Where this chunk's source is in the block's memory, in floats, once a view has put it there. */
  let copy: number | undefined
  let released = false
  /** This chunk's views that resampled (or ran a custom stage), where they are in the input and their size. */
  let costly: WrittenView[] = []
  return {
    data: block.data,
    release: () => {
      released = true
      block.release()
    },
    source: (planes) => {
      src = planes
      copy = undefined
      costly = []
    },
    augment: (stages, dstOffset) => {
      if (released) throw new TypeError('batch.augment was called after batch.release: the memory may be another batch\'s now')
      if (src === undefined) throw new TypeError('batch.augment was called before batch.source named the planes to read')
      const kernels = lowerOnce(stages, src.planes, src.height, src.width, 'store')
      const only = kernels.length === 1 ? kernels[0] : undefined
      const length = src.planes * src.height * src.width
      // A view written over the identity view's values leaves the chunk without a copy of its source.
      const written = only?.kind === 'gather' ? only.planes * only.outHeight * only.outWidth : Number.POSITIVE_INFINITY
      if (copy !== undefined && copy !== block.sourceAt && dstOffset < copy + length && copy < dstOffset + written) copy = undefined
      costly = costly.filter((v) => !(dstOffset < v.at + v.planes * v.height * v.width && v.at < dstOffset + written))
      // A view that only moves the pixels of a costly view written before it (a flip or turn after
      // the same resample) is one pass over that view's values: the same values, since a gather
      // after the resample only chooses which of them land where.
      for (const before of costly) {
        const after = movesOf(before, stages)
        const moved = after === undefined ? undefined : batchGatherOf(after)
        if (after !== undefined && moved !== undefined && block.gather(moved, before.at, dstOffset) === undefined) {
          costly.push({ stages, at: dstOffset, planes: after.planes, height: after.outHeight, width: after.outWidth })
          return
        }
      }
      // One kernel that WebAssembly runs straight from the chunk's source copy: a turn or mirror,
      // or a resample. Nothing is written when it fails (no module, no room for a resample's
      // tables): the kernels below then do it all.
      let done = false
      if (only?.kind === 'gather' && length <= block.source.length) {
        const gather = batchGatherOf(only)
        const resample = gather === undefined ? batchResampleOf(only) : undefined
        const run = gather !== undefined ? (from: number) => block.gather(gather, from, dstOffset)
          : resample !== undefined ? (from: number) => block.resample(resample, only, from, preSteps(only).origin, dstOffset)
            : undefined
        if (run !== undefined) {
          if (copy === undefined) {
            block.source.set(src.data.subarray(src.offset, src.offset + length))
            copy = block.sourceAt
          }
          done = run(copy) === undefined
          // The values are in place (a resample's rounded to float32, as the JavaScript kernel rounds
          // them before its scale and shift): an identity map with the kernel's scale and shift finishes them.
          if (done && (only.scale !== 1 || only.shift !== 0)) {
            compile(afterGather(only, only.planes * only.outHeight))(block.data, dstOffset, block.data, dstOffset, emptyIndex, emptyWeight, emptyIndex, emptyWeight)
          }
        }
      }
      if (!done) runKernels(wasm, kernels, src, block.data, dstOffset)
      const size = outputSizeOf(kernels)
      if (size !== undefined && stages.some((stage) => stage.kind === 'resample' || stage.kind === 'custom')) {
        costly.push({ stages, at: dstOffset, planes: src.planes, height: size[0], width: size[1] })
      }
      // The identity view (first in d4 and most products) is an exact copy of the source in the
      // block: the chunk's turns and mirrors read it there, and the source is never copied twice.
      if (copy === undefined && only?.kind === 'gather' && isWholeCopy(only)) copy = dstOffset
    },
  }
}

/** A view written into a batch: its stages, where its values start (in floats), and its size. */
interface WrittenView {
  readonly stages: readonly Stage[]
  readonly at: number
  readonly planes: number
  readonly height: number
  readonly width: number
}

/** The height and width a chain of kernels writes, or undefined when the last is opaque and says none. */
const outputSizeOf = (kernels: readonly Kernel[]): readonly [number, number] | undefined => {
  const last = kernels[kernels.length - 1]
  if (last === undefined) return undefined
  if (last.kind === 'gather') return [last.outHeight, last.outWidth]
  return last.stage.kind === 'custom' ? [last.stage.outHeight, last.stage.outWidth] : undefined
}

const sameMap = (a: AffineIndexMap, b: AffineIndexMap): boolean =>
  a.outHeight === b.outHeight && a.outWidth === b.outWidth && a.ii === b.ii && a.ij === b.ij && a.i0 === b.i0 && a.ji === b.ji && a.jj === b.jj && a.j0 === b.j0

/** Two stages that write the same values: equal fields (a custom stage only as the same object). */
const sameStage = (a: Stage, b: Stage): boolean => {
  if (a === b) return true
  switch (a.kind) {
    case 'gather': return b.kind === 'gather' && a.inHeight === b.inHeight && a.inWidth === b.inWidth && a.fill === b.fill && sameMap(a.map, b.map)
    case 'resample': return b.kind === 'resample' && a.outHeight === b.outHeight && a.outWidth === b.outWidth && a.mode === b.mode && a.alignCorners === b.alignCorners
    case 'pointwise': return b.kind === 'pointwise' && a.scale === b.scale && a.shift === b.shift
    case 'custom': return false
  }
}

/** The rest of a view's stages after a given prefix, one array per view and prefix length (so lowering is cached). */
const suffixes = new WeakMap<readonly Stage[], Map<number, readonly Stage[]>>()
const suffixOf = (stages: readonly Stage[], from: number): readonly Stage[] => {
  let byLength = suffixes.get(stages)
  if (byLength === undefined) {
    byLength = new Map()
    suffixes.set(stages, byLength)
  }
  const hit = byLength.get(from)
  if (hit !== undefined) return hit
  const made = stages.slice(from)
  byLength.set(from, made)
  return made
}

/**
 * The one gather that turns view `before`'s values into those of `stages`, when `stages` is
 * `before`'s stages followed only by flips, turns and crops that stay inside the plane; else undefined.
 */
const movesOf = (before: WrittenView, stages: readonly Stage[]): GatherKernel | undefined => {
  const n = before.stages.length
  if (stages.length <= n || !before.stages.every((stage, k) => { const other = stages[k]; return other !== undefined && sameStage(stage, other) })) return undefined
  const rest = suffixOf(stages, n)
  if (!rest.every((stage) => stage.kind === 'gather' && stage.fill === undefined)) return undefined
  const kernels = lowerOnce(rest, before.planes, before.height, before.width, 'store')
  const only = kernels.length === 1 ? kernels[0] : undefined
  return only?.kind === 'gather' && only.scale === 1 && only.shift === 0 ? only : undefined
}

/** A kernel that stores its source unchanged: every plane whole, in order, unscaled. */
const isWholeCopy = (k: GatherKernel): boolean => {
  const m = k.pre
  return k.write === 'store' && k.scale === 1 && k.shift === 0 && k.resample === undefined && k.fill === undefined &&
    k.outHeight === k.inHeight && k.outWidth === k.inWidth &&
    m.ii === 1 && m.ij === 0 && m.i0 === 0 && m.ji === 0 && m.jj === 1 && m.j0 === 0
}

const lastIsOpaque = (kernels: readonly Kernel[]): boolean => kernels[kernels.length - 1]?.kind === 'opaque'

/** Options of {@link jsBackend}. @category model */
export interface JsBackendOptions {
  /**
   * `false`: quarter turns as JavaScript loops, mirrored rows as native copies and reverses, even
   * where WebAssembly SIMD runs (to compare, or where compiling WebAssembly is not allowed).
   * Default: WebAssembly SIMD where it runs.
   */
  readonly wasm?: boolean
}

/**
 * The default CPU backend: each view's fused stages run as generated JavaScript, compiled once per
 * kernel; a kernel whose map swaps the axes (a quarter turn, with any flips and crops) has its
 * transpose — and a plain copy of mirrored rows its reversal — run as generated WebAssembly SIMD
 * where the engine supports it (`detail` says whether it does, and why not). `reduce` maps a prediction back and merges it in the same pass, and reports
 * the first value the merge refuses. Both paths give the same values. Where WebAssembly SIMD runs,
 * `batch` gives the plan interpreter a model input held in WebAssembly memory (see {@link BatchBuffer}),
 * so a chunk's turns and mirrors are one pass each; without it (or `wasm: false`) there is no `batch`.
 * @example
 * import { jsBackend, orThrow, resolveAugment, dihedral4 } from 'tta-lens'
 * const mirror = orThrow(resolveAugment([{ op: 'd4', element: dihedral4.d4(0, true) }], 2, 3))
 * const src = { data: Float32Array.of(1, -1, 1, 1, 1, 1), offset: 0, planes: 1, height: 2, width: 3 }
 * const acc = new Float64Array(6)
 * assert.strictEqual(jsBackend().reduce(mirror, src, acc, 'add'), -1)       // all accepted
 * assert.strictEqual(acc[1], -1)
 * assert.strictEqual(jsBackend().reduce(mirror, src, acc, 'add-log'), 1)   // log of -1: refused at index 1
 *
 * // A quarter turn: the same values with or without WebAssembly.
 * const turn = orThrow(resolveAugment([{ op: 'd4', element: dihedral4.d4(1, false) }], 2, 3))
 * const image = { data: Float32Array.of(0, 1, 2, 3, 4, 5), offset: 0, planes: 1, height: 2, width: 3 }
 * const [simd, loops] = [new Float32Array(6), new Float32Array(6)]
 * jsBackend().augment(turn, image, simd, 0)
 * jsBackend({ wasm: false }).augment(turn, image, loops, 0)
 * assert.deepStrictEqual(Array.from(simd), [2, 5, 1, 4, 0, 3])
 * assert.deepStrictEqual(simd, loops)
 * assert.match(jsBackend({ wasm: false }).detail, /quarter turns as JavaScript loops \(WebAssembly turned off/)
 * @category constructors
 */
export const jsBackend = (options?: JsBackendOptions): Backend => {
  // Untyped callers: only an explicit `wasm: false` turns WebAssembly off.
  const off = typeof options === 'object' && options !== null && options.wasm === false
  const found = off ? { reason: 'WebAssembly turned off by the wasm option' } : wasmKernels()
  const wasm = 'kernels' in found ? found.kernels : undefined
  const turns = wasm !== undefined ? 'quarter turns and mirrored rows as WebAssembly SIMD gathers, and resamples into its own batch as WebAssembly' : `quarter turns as JavaScript loops (${'reason' in found ? found.reason : ''})`
  return rangeKeepingBackend({
    name: 'js',
    detail: `js: generated JavaScript kernels (one fused gather per view where the chain allows); ${turns}`,
    augment: (stages: readonly Stage[], src, dst, dstOffset) => {
      runKernels(wasm, lowerOnce(stages, src.planes, src.height, src.width, 'store'), src, dst, dstOffset)
    },
    reduce: (stages: readonly Stage[], src, acc, write: WriteMode) => {
      const kernels = lowerOnce(stages, src.planes, src.height, src.width, write)
      if (!lastIsOpaque(kernels)) return runKernels(wasm, kernels, src, acc, 0)
      const tmp = new Float64Array(acc.length)
      runKernels(wasm, kernels, src, tmp, 0)
      let bad = -1
      for (let o = 0; o < tmp.length; o++) if (!reduceValue(acc, o, tmp[o] ?? Number.NaN, write) && bad < 0) bad = o
      return bad
    },
    ...(wasm === undefined ? {} : { batch: (request: BatchRequest) => wasmBatch(wasm, request) }),
  })
}
