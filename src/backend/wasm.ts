/**
 * The WebAssembly side of the js backend: compiles the SIMD gathers (quarter turns, mirrored rows)
 * rendered by kernels/render-wasm (encoded by kernels/wasm) and runs them in one memory that grows
 * on demand.
 *
 * WebAssembly memory is separate from the caller's arrays, so a gather into a caller's array copies
 * source planes into a scratch memory, gathers them there, and hands the gathered rows (a view of
 * that memory) to the caller, which writes them out with the kernel's own write. Small planes go
 * through in groups of about 1 MiB, large ones one plane at a time and a band of output rows at a
 * time, so what is copied out is still in the CPU's nearest cache. The scratch memory grows to the
 * largest group or plane gathered so far (one plane and one band), and no further.
 *
 * A chunk's model input can instead live in WebAssembly memory ({@link WasmKernels.batch}): one
 * memory per input, made at its final size (its maximum is its initial size, so its views are
 * never detached) and no larger than the bytes the plan's budget leaves, holding the input and a
 * copy of the source. A gather then runs from the copy straight into the input: one pass instead
 * of three. Compiled modules are shared; each memory has its own instances of them.
 *
 * Works wherever WebAssembly with fixed-width SIMD runs (Node ≥ 16.4, current browsers). Where it
 * does not, {@link wasmKernels} says why and the js backend keeps its JavaScript loops. Uses no
 * Node built-ins.
 *
 * @since 0.3.0
 */
import type { GatherKernel } from '../../kernels/ir.js'
import { renderWasm, renderWasmResample, resampleLayout, writeResampleTables, type WasmGather, type WasmResample } from '../../kernels/render-wasm.js'
import { encodeModule, memoryImport, type WasmModule } from '../../kernels/wasm.js'

/** A compiled gather: `(srcByte, dstByte, planes)`, and a resample's tables' byte address. */
type Compiled = (src: number, dst: number, planes: number, tables?: number) => void

/**
 * Gathered rows, handed to the caller: output rows [at, at + rows) counted across planes (row i of
 * plane p is p·outHeight + i), in `data` from index `base`, contiguous.
 */
export type GatheredRows = (data: Float32Array, base: number, at: number, rows: number) => void

/**
 * A fixed block of WebAssembly memory holding a chunk's model input (`data`) and a copy of the
 * source planes (`source`), so that a view's gather runs from one straight into the other: one pass
 * over the view's bytes, where a gather through the scratch memory makes three. It never grows,
 * so `data` and `source` stay valid for as long as the block is held. @internal
 */
export interface WasmBatch {
  /** The model input: floats [0, length) of the block. */
  readonly data: Float32Array
  /** Room for the source planes, after the input (16-byte aligned). */
  readonly source: Float32Array
  /** Where `source` starts, in floats from the start of the block (where `data` starts). */
  readonly sourceAt: number
  /** The block's size in bytes: fixed when it is made. */
  readonly bytes: number
  /**
   * Gathers `g.planes` planes read from float `srcAt` of the block — in `source`, or in `data`
   * (a view already written there) — into `data` from float `dstAt`, which must not overlap what
   * is read. Returns why not, before anything is written, when the offsets do not fit or the
   * module would not compile.
   */
  readonly gather: (g: WasmGather, srcAt: number, dstAt: number) => string | undefined
  /**
   * Resamples `r.planes` planes read from float `srcAt` of the block (the source copy, or a view in
   * `data`; `origin` is where the kernel's map starts in the first plane) into `data` from float
   * `dstAt`, its tables (from `k`) written into the block's scratch room first. Returns why not, before anything is written: no room for the
   * tables, offsets that do not fit, a module that would not compile.
   */
  readonly resample: (r: WasmResample, k: GatherKernel, srcAt: number, origin: number, dstAt: number) => string | undefined
  /** The holder is done with it: the memory may serve the next batch (its pages already touched). */
  readonly release: () => void
}

/** What runs the gathers; absent where WebAssembly SIMD is not available. @internal */
export interface WasmKernels {
  /**
   * Gathers the `g.planes` planes of `src` starting at `srcBase` — small planes a group at a time,
   * large ones a band of rows at a time — and hands each gathered block of rows to `then`. Returns
   * why not, before anything is handed over, when the memory could not grow or the module would
   * not compile (the caller falls back to JavaScript).
   */
  readonly gather: (g: WasmGather, src: Float32Array, srcBase: number, then: GatheredRows) => string | undefined
  /**
   * A block of its own for a model input of `length` floats and a source of `sourceLength` floats,
   * made at its final size (it never grows), or why not: larger than `maxBytes`, larger than a
   * WebAssembly memory, or refused by the engine.
   */
  readonly batch: (length: number, sourceLength: number, maxBytes: number) => WasmBatch | string
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
/**
 * Room after a batch's source for a resample's tables and row cache, when the budget allows:
 * 256 KiB hold them for frames up to about 2,000 columns (bilinear) — a 960×960 view needs 77 KB.
 */
const RESAMPLE_SCRATCH = 1 << 18
/** Pages of a 32-bit WebAssembly memory (4 GiB). */
const MAX_PAGES = 65536

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0] ?? ''

/** One WebAssembly.Memory, reached without assuming its types. */
interface MemoryHandle {
  readonly memory: unknown
  readonly buffer: () => ArrayBuffer
  /** Grows to at least `bytes`; false when the engine (or the memory's maximum) refuses. */
  readonly grow: (bytes: number) => boolean
}

interface Runtime {
  /** A compiled module (a WebAssembly.Module), validated first. */
  readonly compile: (bytes: Uint8Array) => unknown
  /** A memory of `pages` pages that grows up to `maximum` pages (when given). Throws when the engine refuses. */
  readonly memory: (pages: number, maximum?: number) => MemoryHandle
  /** The module's `gather`, instantiated over `memory`. */
  readonly instantiate: (module: unknown, memory: MemoryHandle) => Compiled
}

/** The WebAssembly API (`globalThis.WebAssembly`), reached without assuming its presence or its types. */
const runtime = (api: unknown): Runtime | string => {
  if (typeof api !== 'object' || api === null) return 'this JavaScript engine has no WebAssembly'
  const Memory: unknown = Reflect.get(api, 'Memory')
  const Module: unknown = Reflect.get(api, 'Module')
  const Instance: unknown = Reflect.get(api, 'Instance')
  const validate: unknown = Reflect.get(api, 'validate')
  if (typeof Memory !== 'function' || typeof Module !== 'function' || typeof Instance !== 'function' || typeof validate !== 'function') return 'WebAssembly lacks Memory, Module, Instance or validate'
  const memory = (pages: number, maximum?: number): MemoryHandle => {
    const made: unknown = Reflect.construct(Memory, [maximum === undefined ? { initial: pages } : { initial: pages, maximum }])
    const buffer = (): ArrayBuffer => {
      const b: unknown = Reflect.get(Object(made), 'buffer')
      if (!(b instanceof ArrayBuffer)) throw new TypeError('WebAssembly.Memory has no ArrayBuffer')
      return b
    }
    const grow = (bytes: number): boolean => {
      const missing = Math.ceil((bytes - buffer().byteLength) / PAGE)
      if (missing <= 0) return true
      try {
        Reflect.apply(Reflect.get(Object(made), 'grow'), made, [missing])
        return true
      } catch {
        return false
      }
    }
    return { memory: made, buffer, grow }
  }
  const compile = (bytes: Uint8Array): unknown => {
    // The bytes come only from kernels/render-wasm, built from a kernel's validated sizes.
    if (Reflect.apply(validate, api, [bytes]) !== true) throw new Error('the engine refuses WebAssembly SIMD (module did not validate)')
    return Reflect.construct(Module, [bytes])
  }
  const instantiate = (module: unknown, into: MemoryHandle): Compiled => {
    const imports = { [memoryImport.module]: { [memoryImport.name]: into.memory } }
    const instance: unknown = Reflect.construct(Instance, [module, imports])
    const exported: unknown = Reflect.get(Object(Reflect.get(Object(instance), 'exports')), 'gather')
    if (typeof exported !== 'function') throw new TypeError('kernel module exports no gather function')
    return (src, dst, planes, tables = 0) => { Reflect.apply(exported, undefined, [src, dst, planes, tables]) }
  }
  return { compile, memory, instantiate }
}

/** What a module is rendered from: a gather, or a resample. */
type Spec = { readonly kind: 'gather'; readonly g: WasmGather } | { readonly kind: 'resample'; readonly r: WasmResample }

// The rendered function does not depend on the plane count, so the keys leave it out.
const keyOf = (spec: Spec): string => {
  if (spec.kind === 'resample') {
    const r = spec.r
    return `r${r.inHeight}x${r.inWidth}>${r.outHeight}x${r.outWidth}:${r.frameHeight}x${r.frameWidth}+${r.top},${r.left}:${r.rowTaps},${r.colTaps}:${r.rowStride},${r.colStride}:${r.slots}`
  }
  const { g } = spec
  const m = g.map
  return `${g.inHeight}x${g.inWidth}>${g.outHeight}x${g.outWidth}:${m.ii},${m.ij},${m.i0},${m.ji},${m.jj},${m.j0}`
}

const render = (spec: Spec): WasmModule => (spec.kind === 'gather' ? renderWasm(spec.g) : renderWasmResample(spec.r))

/** Compiled modules by key, and their instances over one memory. */
const modules = (rt: Runtime): { readonly module: (spec: Spec) => unknown } => {
  const compiled = new Map<string, unknown>()
  return {
    module: (spec) => {
      const key = keyOf(spec)
      const hit = compiled.get(key)
      if (hit !== undefined) return hit
      const made = rt.compile(encodeModule(render(spec)))
      if (compiled.size > 256) compiled.clear()
      compiled.set(key, made)
      return made
    },
  }
}

/** The modules of one memory: each key's module instantiated over it once. */
const instancesOver = (rt: Runtime, cache: ReturnType<typeof modules>, memory: MemoryHandle): ((spec: Spec) => Compiled) => {
  const made = new Map<string, Compiled>()
  return (spec) => {
    const key = keyOf(spec)
    const hit = made.get(key)
    if (hit !== undefined) return hit
    const run = rt.instantiate(cache.module(spec), memory)
    if (made.size > 256) made.clear()
    made.set(key, run)
    return run
  }
}

const make = (rt: Runtime): WasmKernels => {
  const cache = modules(rt)
  const scratch = rt.memory(1)
  const compile = instancesOver(rt, cache, scratch)
  let view = new Float32Array(scratch.buffer())
  /** Room for `floats` values, and a view of it; why not, when the memory cannot grow. */
  const room = (floats: number): string | undefined => {
    if (!scratch.grow(4 * floats)) return `WebAssembly memory could not grow to ${4 * floats} bytes`
    if (view.buffer !== scratch.buffer()) view = new Float32Array(scratch.buffer())
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
      run = compile({ kind: 'gather', g })
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
      run = compile({ kind: 'gather', g: band(rows) })
      last = tail === 0 ? run : compile({ kind: 'gather', g: band(tail) })
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
  /**
   * The last released block, kept for the next batch: a fresh memory's pages fault in on first
   * touch, measured here at ~100 ms for 32 MiB (a run's whole augment is a few ms), where a block
   * used before is written at memory speed. One block at most, and only reused within the next
   * request's maxBytes (else dropped), so what is kept is one run's input.
   */
  let spare: { readonly memory: MemoryHandle; readonly moduleOf: (spec: Spec) => Compiled; readonly bytes: number } | undefined
  /** A chunk's block: input at 0, source after it; its memory's maximum is its initial size. */
  const batch = (length: number, sourceLength: number, maxBytes: number): WasmBatch | string => {
    const sourceAt = Math.ceil(length / 4) * 4
    const bytes = 4 * (sourceAt + sourceLength)
    const least = Math.max(1, Math.ceil(bytes / PAGE))
    if (!Number.isSafeInteger(length) || !Number.isSafeInteger(sourceLength) || length < 1 || sourceLength < 1) return 'a batch needs positive integer sizes'
    if (!(least * PAGE <= maxBytes)) return `a WebAssembly batch of ${least * PAGE} bytes is more than the ${maxBytes} bytes the budget leaves`
    if (least > MAX_PAGES) return `a WebAssembly batch of ${least * PAGE} bytes is more than a 32-bit memory holds`
    // Room for a resample's tables after the source, where the budget leaves it (else resamples stay in JavaScript).
    const roomy = Math.ceil((bytes + 8 + RESAMPLE_SCRATCH) / PAGE)
    const pages = roomy * PAGE <= maxBytes && roomy <= MAX_PAGES ? roomy : least
    const scratchAt = Math.ceil(bytes / 8) * 8
    let block = spare !== undefined && spare.bytes >= pages * PAGE && spare.bytes <= maxBytes ? spare : undefined
    spare = undefined // taken, or too small or too large for this budget: let it go
    if (block === undefined) {
      try {
        const memory = rt.memory(pages, pages)
        block = { memory, moduleOf: instancesOver(rt, cache, memory), bytes: memory.buffer().byteLength }
      } catch (e) {
        return describe(e)
      }
    }
    const held = block
    const buffer = held.memory.buffer()
    const moduleOf = held.moduleOf
    let released = false
    /**
     * The module for `spec` over this block, or why not: every address it touches lies inside the
     * source copy or the input (planes of `inPlane` floats read from float `srcAt`, of `outPlane`
     * written from `dstAt`), and what it writes is not what it reads — checked here, where the
     * JavaScript side's offsets meet the module's — and the engine compiles it.
     */
    const checkedModule = (spec: Spec, planes: number, inPlane: number, outPlane: number, srcAt: number, dstAt: number): Compiled | string => {
      const inEnd = srcAt + planes * inPlane
      const outEnd = dstAt + planes * outPlane
      const reads = (srcAt >= 0 && inEnd <= length) || (srcAt >= sourceAt && inEnd <= sourceAt + sourceLength)
      const apart = outEnd <= srcAt || inEnd <= dstAt
      if (!Number.isSafeInteger(srcAt) || !Number.isSafeInteger(dstAt) || !reads || dstAt < 0 || outEnd > length || !apart) {
        return `a ${spec.kind} of [${srcAt}, ${inEnd}) into [${dstAt}, ${outEnd}) falls outside the batch or onto what it reads`
      }
      try {
        return moduleOf(spec)
      } catch (e) {
        return describe(e)
      }
    }
    return {
      release: () => {
        if (released) return
        released = true
        spare = held
      },
      data: new Float32Array(buffer, 0, length),
      source: new Float32Array(buffer, 4 * sourceAt, sourceLength),
      sourceAt,
      bytes: buffer.byteLength,
      gather: (g, srcAt, dstAt) => {
        const run = checkedModule({ kind: 'gather', g }, g.planes, g.inHeight * g.inWidth, g.outHeight * g.outWidth, srcAt, dstAt)
        if (typeof run === 'string') return run
        run(4 * srcAt, 4 * dstAt, g.planes)
        return undefined
      },
      resample: (r, k, srcAt, origin, dstAt) => {
        const lay = resampleLayout(r)
        if (scratchAt + lay.bytes > buffer.byteLength) return `no room for the resample's ${lay.bytes} bytes of tables after the batch's source`
        if (!Number.isSafeInteger(origin)) return `a resample's map origin ${origin} is not an integer`
        // The kernel's map keeps every read inside its plane.
        const run = checkedModule({ kind: 'resample', r }, r.planes, r.inHeight * r.inWidth, r.outHeight * r.outWidth, srcAt, dstAt)
        if (typeof run === 'string') return run
        writeResampleTables(r, k, buffer, scratchAt)
        run(4 * (srcAt + origin), 4 * dstAt, r.planes, scratchAt)
        return undefined
      },
    }
  }
  return {
    gather: (g, src, srcBase, then) => {
      const rows = 16 * Math.max(1, Math.floor(BAND_BYTES / (4 * 16 * g.outWidth)))
      return g.outHeight >= 4 * rows ? byBands(g, rows, src, srcBase, then) : byGroups(g, src, srcBase, then)
    },
    batch,
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
