/**
 * The WebAssembly side of the js backend: compiles the SIMD gathers (quarter turns, mirrored rows)
 * rendered by kernels/render-wasm (encoded by kernels/wasm) and runs them in one memory that grows
 * on demand.
 *
 * WebAssembly memory is separate from the caller's arrays, so a gather copies source planes in,
 * gathers them there, and hands the gathered rows (a view of that memory) to the caller, which
 * writes them out with the kernel's own write. Small planes go through in groups of about 1 MiB,
 * large ones one plane at a time and a band of output rows at a time, so what is copied out is
 * still in the CPU's nearest cache.
 *
 * Works wherever WebAssembly with fixed-width SIMD runs (Node ≥ 16.4, current browsers). Where it
 * does not, {@link wasmKernels} says why and the js backend keeps its JavaScript loops. Uses no
 * Node built-ins.
 *
 * @since 0.3.0
 */
import { renderWasm, type WasmGather } from '../../kernels/render-wasm.js'
import { encodeModule, memoryImport } from '../../kernels/wasm.js'

/** A compiled gather: `(srcByte, dstByte, planes)`. */
type Compiled = (src: number, dst: number, planes: number) => void

/**
 * Gathered rows, handed to the caller: output rows [at, at + rows) counted across planes (row i of
 * plane p is p·outHeight + i), in `data` from index `base`, contiguous.
 */
export type GatheredRows = (data: Float32Array, base: number, at: number, rows: number) => void

/** What runs the gathers; absent where WebAssembly SIMD is not available. @internal */
export interface WasmKernels {
  /**
   * Gathers the `g.planes` planes of `src` starting at `srcBase` — small planes a group at a time,
   * large ones a band of rows at a time — and hands each gathered block of rows to `then`. Returns
   * why not, before anything is handed over, when the memory could not grow or the module would
   * not compile (the caller falls back to JavaScript).
   */
  readonly gather: (g: WasmGather, src: Float32Array, srcBase: number, then: GatheredRows) => string | undefined
}

/**
 * The bytes of one group of small planes' input (and as much again for its output): about 1 MiB
 * each, so a group stays in L2/L3 between its copy in, its gather and its copy out.
 */
const GROUP_BYTES = 1 << 20
/**
 * The bytes of one band of a large plane's output. A plane is copied in whole (a turn needs every
 * source row for any output row) and gathered a band of rows at a time, so each band is still in L1
 * when it is copied out: measured here (CPU time, a 512×512 turn of 3 planes), 11% less than
 * gathering whole planes.
 */
const BAND_BYTES = 1 << 15
const PAGE = 65536

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0] ?? ''

interface Runtime {
  readonly instantiate: (bytes: Uint8Array) => Compiled
  readonly buffer: () => ArrayBuffer
  readonly grow: (bytes: number) => boolean
}

/** The WebAssembly API (`globalThis.WebAssembly`), reached without assuming its presence or its types. */
const runtime = (api: unknown): Runtime | string => {
  if (typeof api !== 'object' || api === null) return 'this JavaScript engine has no WebAssembly'
  const Memory: unknown = Reflect.get(api, 'Memory')
  const Module: unknown = Reflect.get(api, 'Module')
  const Instance: unknown = Reflect.get(api, 'Instance')
  const validate: unknown = Reflect.get(api, 'validate')
  if (typeof Memory !== 'function' || typeof Module !== 'function' || typeof Instance !== 'function' || typeof validate !== 'function') return 'WebAssembly lacks Memory, Module, Instance or validate'
  const memory: unknown = Reflect.construct(Memory, [{ initial: 1 }])
  const buffer = (): ArrayBuffer => {
    const b: unknown = Reflect.get(Object(memory), 'buffer')
    if (!(b instanceof ArrayBuffer)) throw new TypeError('WebAssembly.Memory has no ArrayBuffer')
    return b
  }
  const grow = (bytes: number): boolean => {
    const missing = Math.ceil((bytes - buffer().byteLength) / PAGE)
    if (missing <= 0) return true
    try {
      Reflect.apply(Reflect.get(Object(memory), 'grow'), memory, [missing])
      return true
    } catch {
      return false
    }
  }
  const imports = { [memoryImport.module]: { [memoryImport.name]: memory } }
  const instantiate = (bytes: Uint8Array): Compiled => {
    // The bytes come only from kernels/render-wasm, built from a kernel's validated sizes.
    if (Reflect.apply(validate, api, [bytes]) !== true) throw new Error('the engine refuses WebAssembly SIMD (module did not validate)')
    const instance: unknown = Reflect.construct(Instance, [Reflect.construct(Module, [bytes]), imports])
    const exported: unknown = Reflect.get(Object(Reflect.get(Object(instance), 'exports')), 'gather')
    if (typeof exported !== 'function') throw new TypeError('kernel module exports no gather function')
    return (src, dst, planes) => { Reflect.apply(exported, undefined, [src, dst, planes]) }
  }
  return { instantiate, buffer, grow }
}

const keyOf = (g: WasmGather): string => {
  const m = g.map
  return `${g.inHeight}x${g.inWidth}>${g.outHeight}x${g.outWidth}:${m.ii},${m.ij},${m.i0},${m.ji},${m.jj},${m.j0}`
}

const make = (rt: Runtime): WasmKernels => {
  // The rendered function does not depend on the plane count, so the key leaves it out.
  const compiled = new Map<string, Compiled>()
  const compile = (g: WasmGather): Compiled => {
    const key = keyOf(g)
    const hit = compiled.get(key)
    if (hit !== undefined) return hit
    const made = rt.instantiate(encodeModule(renderWasm(g)))
    if (compiled.size > 256) compiled.clear()
    compiled.set(key, made)
    return made
  }
  let view = new Float32Array(rt.buffer())
  /** Room for `floats` values, and a view of it; why not, when the memory cannot grow. */
  const room = (floats: number): string | undefined => {
    if (!rt.grow(4 * floats)) return `WebAssembly memory could not grow to ${4 * floats} bytes`
    if (view.buffer !== rt.buffer()) view = new Float32Array(rt.buffer())
    return undefined
  }
  /** Small planes: groups of whole planes, copied in, gathered, handed over. */
  const byGroups = (g: WasmGather, src: Float32Array, srcBase: number, then: GatheredRows): string | undefined => {
    const inPlane = g.inHeight * g.inWidth
    const outPlane = g.outHeight * g.outWidth
    const group = Math.max(1, Math.min(g.planes, Math.floor(GROUP_BYTES / (4 * Math.max(inPlane, outPlane)))))
    // Input at 0, output after it (16-byte aligned).
    const outBase = Math.ceil((group * inPlane) / 4) * 4
    const full = room(outBase + group * outPlane)
    if (full !== undefined) return full
    let run: Compiled
    try {
      run = compile(g)
    } catch (e) {
      // A module the engine will not compile here (a plane too large for 32-bit offsets, no SIMD,
      // a browser's limit on compiling on the main thread): this kernel stays in JavaScript.
      return describe(e)
    }
    for (let p = 0; p < g.planes; p += group) {
      const n = Math.min(group, g.planes - p)
      view.set(src.subarray(srcBase + p * inPlane, srcBase + (p + n) * inPlane), 0)
      run(0, 4 * outBase, n)
      then(view, outBase, p * g.outHeight, n * g.outHeight)
    }
    return undefined
  }
  /**
   * Large planes: each copied in whole, then gathered in bands of `rows` output rows. Every band runs
   * the first band's module with the source address moved by the band's first row; a shorter last
   * band has a module of its own.
   */
  const byBands = (g: WasmGather, rows: number, src: Float32Array, srcBase: number, then: GatheredRows): string | undefined => {
    const inPlane = g.inHeight * g.inWidth
    const outBase = Math.ceil(inPlane / 4) * 4
    const band = (height: number): WasmGather => ({ ...g, planes: 1, outHeight: height, map: { ...g.map, outHeight: height } })
    const tail = g.outHeight % rows
    const full = room(outBase + rows * g.outWidth)
    if (full !== undefined) return full
    let run: Compiled
    let last: Compiled
    try {
      run = compile(band(rows))
      last = tail === 0 ? run : compile(band(tail))
    } catch (e) {
      return describe(e)
    }
    // Source floats moved per output row: ii·inWidth + ji (a turn moves along a row, a mirror down the plane).
    const step = g.map.ii * g.inWidth + g.map.ji
    for (let p = 0; p < g.planes; p++) {
      view.set(src.subarray(srcBase + p * inPlane, srcBase + (p + 1) * inPlane), 0)
      for (let i = 0; i < g.outHeight; i += rows) {
        const height = Math.min(rows, g.outHeight - i)
        const runBand = height === rows ? run : last
        // The moved address may fall below 0 before the module adds its own offsets: i32
        // arithmetic wraps, and every address the module reads is inside the plane.
        runBand(4 * i * step, 4 * outBase, 1)
        then(view, outBase, p * g.outHeight + i, height)
      }
    }
    return undefined
  }
  return {
    gather: (g, src, srcBase, then) => {
      const rows = 16 * Math.max(1, Math.floor(BAND_BYTES / (4 * 16 * g.outWidth)))
      return g.outHeight >= 4 * rows ? byBands(g, rows, src, srcBase, then) : byGroups(g, src, srcBase, then)
    },
  }
}

/**
 * Whether the probe ran right: a quarter turn with a flip of two 5×18 planes (a 16-row block band,
 * 4×4 blocks and edges) and a mirror of the same planes, checked value by value against the map.
 */
const probe = (kernels: WasmKernels): string | undefined => {
  const [h, w] = [5, 18]
  const src = Float32Array.from({ length: 2 * h * w }, (_, k) => k)
  const cases: readonly WasmGather[] = [
    { planes: 2, inHeight: h, inWidth: w, outHeight: w, outWidth: h, map: { outHeight: w, outWidth: h, ii: 0, ij: -1, i0: h - 1, ji: -1, jj: 0, j0: w - 1 } },
    { planes: 2, inHeight: h, inWidth: w, outHeight: h, outWidth: w, map: { outHeight: h, outWidth: w, ii: 1, ij: 0, i0: 0, ji: 0, jj: -1, j0: w - 1 } },
  ]
  for (const g of cases) {
    const m = g.map
    let wrong = 0
    let seen = 0
    const failed = kernels.gather(g, src, 0, (data, base, at, rows) => {
      for (let r = at; r < at + rows; r++) {
        const p = Math.floor(r / g.outHeight)
        const i = r % g.outHeight
        for (let j = 0; j < g.outWidth; j++) {
          seen++
          const from = p * h * w + (m.ii * i + m.ij * j + m.i0) * w + m.ji * i + m.jj * j + m.j0
          if (data[base + (r - at) * g.outWidth + j] !== src[from]) wrong++
        }
      }
    })
    if (failed !== undefined) return failed
    if (seen !== 2 * h * w || wrong > 0) return `the probe gathered ${wrong} of ${seen} values wrong`
  }
  return undefined
}

/**
 * Sets the kernels up on a WebAssembly API object and probes them, or says why they cannot run.
 * @internal
 */
export const setUpWasm = (api: unknown): { kernels: WasmKernels } | { reason: string } => {
  try {
    const rt = runtime(api)
    if (typeof rt === 'string') return { reason: rt }
    const kernels = make(rt)
    const failed = probe(kernels)
    return failed === undefined ? { kernels } : { reason: failed }
  } catch (e) {
    return { reason: describe(e) }
  }
}

let detected: { kernels: WasmKernels } | { reason: string } | undefined

/**
 * The engine's WebAssembly SIMD kernels, set up and probed once per process, or why they cannot run here.
 * @internal
 */
export const wasmKernels = (): { kernels: WasmKernels } | { reason: string } => {
  detected ??= setUpWasm(Reflect.get(globalThis, 'WebAssembly'))
  return detected
}
