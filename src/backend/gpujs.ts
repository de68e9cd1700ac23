/**
 * The gpu.js backend: kernels rendered by kernels/render-gpujs and run by gpu.js in the best mode
 * that works here, tried in order — WebGPU where an adapter exists, headless GL where it
 * initialises, WebAssembly, then gpu.js's CPU mode — with the reason each better mode was skipped
 * kept in `detail`. On a machine without a GPU this is slower than the `js` backend (measured in
 * docs/benchmarks.md), so it is never the CPU default.
 *
 * gpu.js has no 4-D outputs and may index in float32: planes are mapped to its 3-D output
 * `[width, height, N·C]`, and kernels whose flat indices reach 2^24 are refused.
 *
 * @since 0.2.0
 */
// gpu.js is imported when the backend is first asked for: loading it costs ~0.7 s, which every
// process that never uses it (the CLI on the js backend) would otherwise pay at start.
import type { GPU, IKernelRunShortcut, KernelOutput } from 'gpu.js'
import type { GatherKernel, Kernel, WriteMode } from '../../kernels/ir.js'
import { lower } from '../../kernels/lower.js'
import { fitsFloat32Indices, renderGpuJs } from '../../kernels/render-gpujs.js'
import type { Stage } from '../transform/step.js'
import type { Backend, PlaneBlock } from './backend.js'
import { runStage } from './reference/execute.js'
import { reduceValue } from './reference/backend.js'

/**
 * gpu.js modes. Tried in this order: in a browser webgpu, webgl2, webgl, webasm, cpu; in Node
 * webgpu, headlessgl, webasm, cpu.
 * @category model
 */
export type GpuJsMode = 'webgpu' | 'webgl2' | 'webgl' | 'headlessgl' | 'webasm' | 'cpu'

/** gpu.js itself, loaded on first use: the core's other backends never pay for it (≈150 KB gzipped in a browser). */
const loadGpuJs = async (): Promise<typeof GPU> => (await import('gpu.js')).GPU

const describeError = (e: unknown): string => (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? ''

/**
 * How WebGPU is found where `navigator.gpu` is missing: nothing in the browser (it is there or
 * not); in Node, `tta-lens/node` installs Dawn (the `webgpu` package) here when it loads. Returns
 * why it could not, or undefined when `navigator.gpu` is now there.
 */
let webGpuFallback: (() => Promise<string | undefined>) | undefined

/** Sets how WebGPU is provided where `navigator.gpu` is missing (tta-lens/node uses it for Dawn). @internal */
export const provideWebGpuWith = (provider: () => Promise<string | undefined>): void => {
  webGpuFallback = provider
}

/** gpu.js finds WebGPU at `navigator.gpu`: undefined when it is there (or was provided), else why not. */
const provideWebGpu = async (): Promise<string | undefined> => {
  const existing: unknown = Reflect.get(globalThis, 'navigator')
  if (typeof existing === 'object' && existing !== null && 'gpu' in existing && existing.gpu !== undefined) return undefined
  if (webGpuFallback !== undefined) return webGpuFallback()
  return typeof existing === 'object' && existing !== null
    ? 'this browser has no navigator.gpu'
    : 'no navigator.gpu here (in Node, importing tta-lens/node lets gpu.js try Dawn, the webgpu package)'
}

/** Picks the first mode that works, with the reason every earlier mode was skipped. */
const pickMode = async (only?: GpuJsMode): Promise<{ gpu: GPU; mode: GpuJsMode; skipped: readonly string[] }> => {
  const GPU = await loadGpuJs()
  const skipped: string[] = []
  const browser = GPU.isCanvasSupported || GPU.isOffscreenCanvasSupported
  const order: readonly GpuJsMode[] = only !== undefined ? [only]
    : browser ? ['webgpu', 'webgl2', 'webgl', 'webasm', 'cpu'] : ['webgpu', 'headlessgl', 'webasm', 'cpu']
  for (const mode of order) {
    try {
      if (mode === 'webgpu') {
        const provided = await provideWebGpu()
        if (provided !== undefined) {
          skipped.push(`webgpu: ${provided}`)
          continue
        }
        if (!(await GPU.isWebGPUAvailable())) {
          skipped.push('webgpu: no WebGPU adapter')
          continue
        }
      }
      if ((mode === 'webgl2' && !GPU.isWebGL2Supported) || (mode === 'webgl' && !GPU.isWebGLSupported)) {
        skipped.push(`${mode}: not supported here`)
        continue
      }
      if (mode === 'headlessgl' && !GPU.isHeadlessGLSupported) {
        skipped.push('headlessgl: did not initialise (no GL context; the optional `gl` package is not built)')
        continue
      }
      const gpu = new GPU({ mode })
      // A one-value probe: some modes construct but fail on first use.
      const probe = gpu.createKernel('function (a) { return a[this.thread.x] + 1; }').setOutput([1])
      const out = await Promise.resolve(probe(Float32Array.of(1)))
      if (!(out instanceof Float32Array || Array.isArray(out))) throw new Error('probe returned no array')
      return { gpu, mode, skipped }
    } catch (e) {
      skipped.push(`${mode}: ${describeError(e)}`)
    }
  }
  throw new Error(`gpu.js could not start in any mode (${skipped.join('; ')})`)
}

/** Copies gpu.js's nested `[planes][height][width]` output into a flat array. */
const flatten = (out: KernelOutput, k: GatherKernel, into: (o: number, v: number) => void): void => {
  if (!Array.isArray(out)) throw new TypeError('gpu.js returned no 3-D output')
  let o = 0
  for (const plane of out) {
    if (!Array.isArray(plane)) throw new TypeError('gpu.js returned a malformed plane')
    for (const row of plane) {
      if (!(row instanceof Float32Array) && !Array.isArray(row)) throw new TypeError('gpu.js returned a malformed row')
      for (let j = 0; j < k.outWidth; j++) into(o++, Number(row[j]))
    }
  }
}

/**
 * Creates the gpu.js backend (async: probing WebGPU is). Pass a mode to force one. Worth it only
 * where a GPU mode starts; `detail` says which mode runs and why better ones were skipped.
 * @example
 * import { gpujsBackend, orThrow, resolveAugment, dihedral4 } from 'tta-lens'
 * const backend = await gpujsBackend('cpu')   // forced: gpu.js's CPU mode works everywhere
 * assert.ok(backend.detail.startsWith('gpujs cpu'))
 * const mirror = orThrow(resolveAugment([{ op: 'd4', element: dihedral4.d4(0, true) }], 2, 3))
 * const out = new Float32Array(6)
 * await backend.augment(mirror, { data: Float32Array.of(0, 1, 2, 3, 4, 5), offset: 0, planes: 1, height: 2, width: 3 }, out, 0)
 * assert.deepStrictEqual(Array.from(out), [2, 1, 0, 5, 4, 3])
 * @category constructors
 */
export const gpujsBackend = async (only?: GpuJsMode): Promise<Backend> => {
  const { gpu, mode, skipped } = await pickMode(only)
  const kernels = new Map<string, IKernelRunShortcut>()
  /** gpu.js fixes argument sizes at first call, so they are part of the cache key. */
  const kernelFor = (k: GatherKernel, sizes: readonly number[]): IKernelRunShortcut => {
    const source = renderGpuJs(k)
    const key = `${source}|${k.outWidth}x${k.outHeight}x${k.planes}|${sizes.join(',')}`
    const hit = kernels.get(key)
    if (hit !== undefined) return hit
    const made = gpu.createKernel(source).setOutput([k.outWidth, k.outHeight, k.planes])
    kernels.set(key, made)
    return made
  }
  const empty = new Float32Array(1)
  /** Runs one gather kernel; the result goes to `into` value by value. */
  const launch = async (k: GatherKernel, src: Float32Array, srcBase: number, acc: Float32Array, into: (o: number, v: number) => void): Promise<void> => {
    if (!fitsFloat32Indices(k, src.length)) {
      throw new RangeError(`gpu.js would index ${Math.max(src.length, k.planes * k.outHeight * k.outWidth)} values in float32 (limit 2^24): use the js backend or a smaller chunk`)
    }
    const tables = [
      Float32Array.from(k.resample?.rows.index ?? [0]), Float32Array.from(k.resample?.rows.weight ?? [0]),
      Float32Array.from(k.resample?.cols.index ?? [0]), Float32Array.from(k.resample?.cols.weight ?? [0]),
    ] as const
    const run = kernelFor(k, [src.length, acc.length, ...tables.map((t) => t.length)])
    const out = await Promise.resolve(run(src, srcBase, acc, ...tables))
    flatten(out, k, into)
  }
  /** Runs all but the last kernel into temporaries and returns the input of the last. */
  const prefix = async (list: readonly Kernel[], src: PlaneBlock): Promise<{ data: Float32Array; base: number; height: number; width: number }> => {
    let data = src.data
    let base = src.offset
    let height = src.height
    let width = src.width
    for (const k of list.slice(0, -1)) {
      if (k.kind === 'opaque') {
        const out = runStage({ data: data.subarray(base, base + src.planes * height * width), planes: src.planes, height, width }, k.stage)
        data = out.data
        height = out.height
        width = out.width
      } else {
        const tmp = new Float32Array(k.planes * k.outHeight * k.outWidth)
        await launch(k, data, base, empty, (o, v) => { tmp[o] = v })
        data = tmp
        height = k.outHeight
        width = k.outWidth
      }
      base = 0
    }
    return { data, base, height, width }
  }
  const finalStore = async (list: readonly Kernel[], src: PlaneBlock, write: (o: number, v: number) => void, acc: Float32Array, reducing: GatherKernel | undefined): Promise<void> => {
    const last = list[list.length - 1]
    const input = await prefix(list, src)
    if (last === undefined) return
    if (last.kind === 'opaque') {
      const out = runStage({ data: input.data.subarray(input.base, input.base + src.planes * input.height * input.width), planes: src.planes, height: input.height, width: input.width }, last.stage)
      out.data.forEach((v, o) => write(o, v))
      return
    }
    await launch(reducing ?? last, input.data, input.base, acc, write)
  }
  return {
    name: 'gpujs',
    detail: `gpujs ${mode}${skipped.length > 0 ? ` (${skipped.join('; ')})` : ''}`,
    augment: async (stages: readonly Stage[], src, dst, dstOffset) => {
      const list = lower(stages, src.planes, src.height, src.width, 'store')
      await finalStore(list, src, (o, v) => { dst[dstOffset + o] = v }, empty, undefined)
    },
    reduce: async (stages: readonly Stage[], src, acc, write: WriteMode) => {
      const list = lower(stages, src.planes, src.height, src.width, write)
      const last = list[list.length - 1]
      let bad = -1
      if (last?.kind === 'gather' && write !== 'store') {
        // Fused: the kernel reads the running merge and returns its new value.
        const before = Float32Array.from(acc)
        await finalStore(list, src, (o, v) => {
          if (Number.isNaN(v) && bad < 0) bad = o
          acc[o] = v
        }, before, last)
        return bad
      }
      await finalStore(list, src, (o, v) => { if (!reduceValue(acc, o, v, write) && bad < 0) bad = o }, empty, undefined)
      return bad
    },
  }
}
