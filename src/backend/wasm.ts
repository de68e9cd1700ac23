/**
 * The WebAssembly side of the js backend: compiles the SIMD transposes rendered by
 * kernels/render-wasm (encoded by kernels/wasm) and runs them in one memory that grows on demand.
 *
 * WebAssembly memory is separate from the caller's arrays, so a transpose copies a few source
 * planes in, turns them there, and hands the turned planes (a view of that memory) to the caller,
 * which writes them out with the kernel's own write. Planes go through in small groups so the
 * memory stays within the CPU's caches.
 *
 * Works wherever WebAssembly with fixed-width SIMD runs (Node ≥ 16.4, current browsers). Where it
 * does not, {@link wasmKernels} says why and the js backend keeps its JavaScript loops. Uses no
 * Node built-ins.
 *
 * @since 0.3.0
 */
import { renderWasm, type TransposeKernel } from '../../kernels/render-wasm.js'
import { encodeModule, memoryImport } from '../../kernels/wasm.js'

/** A compiled transpose: `(srcByte, dstByte, planes)`. */
type Transpose = (src: number, dst: number, planes: number) => void

/** Turned planes, handed to the caller: `planes` planes from `plane`, in `data` from index `base`. */
export type TurnedPlanes = (data: Float32Array, base: number, plane: number, planes: number) => void

/** What runs the transposes; absent where WebAssembly SIMD is not available. @internal */
export interface WasmKernels {
  /**
   * Turns the `t.planes` planes of `src` starting at `srcBase`, a group at a time, and hands each
   * turned group to `then`. False when the memory could not grow (the caller falls back).
   */
  readonly transpose: (t: TransposeKernel, src: Float32Array, srcBase: number, then: TurnedPlanes) => boolean
}

/** The bytes of one group's input (and as much again for its output): ~1 MiB each stays in L2/L3. */
const GROUP_BYTES = 1 << 20
const PAGE = 65536

const describe = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e)).split('\n')[0] ?? ''

interface Runtime {
  readonly instantiate: (bytes: Uint8Array) => Transpose
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
  const instantiate = (bytes: Uint8Array): Transpose => {
    // The bytes come only from kernels/render-wasm, built from a kernel's validated sizes.
    if (Reflect.apply(validate, api, [bytes]) !== true) throw new Error('the engine refuses WebAssembly SIMD (module did not validate)')
    const instance: unknown = Reflect.construct(Instance, [Reflect.construct(Module, [bytes]), imports])
    const exported: unknown = Reflect.get(Object(Reflect.get(Object(instance), 'exports')), 'transpose')
    if (typeof exported !== 'function') throw new TypeError('kernel module exports no transpose function')
    return (src, dst, planes) => { Reflect.apply(exported, undefined, [src, dst, planes]) }
  }
  return { instantiate, buffer, grow }
}

const keyOf = (t: TransposeKernel): string => `${t.inHeight}x${t.inWidth}>${t.outHeight}x${t.outWidth}:${t.ij},${t.ji},${t.i0},${t.j0}`

const make = (rt: Runtime): WasmKernels => {
  // The rendered function does not depend on the plane count, so the key leaves it out.
  const compiled = new Map<string, Transpose>()
  const compile = (t: TransposeKernel): Transpose => {
    const key = keyOf(t)
    const hit = compiled.get(key)
    if (hit !== undefined) return hit
    const made = rt.instantiate(encodeModule(renderWasm(t)))
    if (compiled.size > 256) compiled.clear()
    compiled.set(key, made)
    return made
  }
  let view = new Float32Array(rt.buffer())
  return {
    transpose: (t, src, srcBase, then) => {
      const inPlane = t.inHeight * t.inWidth
      const outPlane = t.outHeight * t.outWidth
      const group = Math.max(1, Math.min(t.planes, Math.floor(GROUP_BYTES / (4 * Math.max(inPlane, outPlane)))))
      // Input at 0, output after it (16-byte aligned).
      const outBase = Math.ceil((group * inPlane) / 4) * 4
      if (!rt.grow(4 * (outBase + group * outPlane))) return false
      if (view.buffer !== rt.buffer()) view = new Float32Array(rt.buffer())
      const run = compile(t)
      for (let p = 0; p < t.planes; p += group) {
        const n = Math.min(group, t.planes - p)
        view.set(src.subarray(srcBase + p * inPlane, srcBase + (p + n) * inPlane), 0)
        run(0, 4 * outBase, n)
        then(view, outBase, p, n)
      }
      return true
    },
  }
}

/** Whether the probe ran: a 5×6 quarter turn with a flip, checked value by value. */
const probe = (kernels: WasmKernels): string | undefined => {
  const t: TransposeKernel = { planes: 2, inHeight: 5, inWidth: 6, outHeight: 6, outWidth: 5, ij: -1, ji: -1, i0: 4, j0: 5 }
  const src = Float32Array.from({ length: 60 }, (_, k) => k)
  let wrong = 0
  let seen = 0
  const ran = kernels.transpose(t, src, 0, (data, base, plane, planes) => {
    for (let p = plane; p < plane + planes; p++) {
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 5; j++) {
          seen++
          if (data[base + (p - plane) * 30 + i * 5 + j] !== src[p * 30 + (4 - j) * 6 + (5 - i)]) wrong++
        }
      }
    }
  })
  return !ran ? 'the memory could not grow' : seen !== 60 || wrong > 0 ? `the probe turned ${wrong} of ${seen} values wrong` : undefined
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
