/**
 * What the plan interpreter needs from a backend: augment a batch of planes through a view's
 * stages into a buffer, and map a prediction back through a view's undo stages while reducing it
 * into the running merge. Backends differ only in how they execute; the property test in
 * spec/backend checks that every backend agrees with the reference.
 *
 * @since 0.2.0
 */
import type { Stage } from '../transform/step.js'
import type { WriteMode } from '../../kernels/ir.js'

/** A block of planes inside a larger buffer. @category model */
export interface PlaneBlock<A extends Float32Array | Float64Array = Float32Array> {
  readonly data: A
  readonly offset: number
  readonly planes: number
  readonly height: number
  readonly width: number
}

/** The built-in backends, by the name the wrappers' `backend` option and the CLI take. @category model */
export type BackendName = 'reference' | 'js' | 'gpujs'

/**
 * What the plan interpreter asks a backend for when a chunk needs a model input (see
 * {@link Backend.batch}).
 * @example
 * import type { BatchRequest } from 'tta-lens'
 * // 8 views of a 1×3×4×4 image, and 1 MiB that the plan's budget leaves for the input and any copy of the image
 * const request: BatchRequest = { length: 8 * 3 * 4 * 4, sourceLength: 3 * 4 * 4, maxBytes: 2 ** 20 }
 * assert.strictEqual(request.length / request.sourceLength, 8)
 * @category model
 */
export interface BatchRequest {
  /** Values of the chunk's model input. */
  readonly length: number
  /** Values of the source planes the chunk's views read (the image). */
  readonly sourceLength: number
  /**
   * Bytes the backend may hold for this input, everything included (the input, a copy of the
   * source, padding): what the plan's memory budget leaves once the image, the largest chunk's
   * output and the merge are counted.
   */
  readonly maxBytes: number
}

/**
 * A chunk's model input held by a backend: the interpreter names the chunk's source once with
 * `source`, writes each view with `augment`, and hands `data` to the model.
 * @example
 * import { jsBackend, orThrow, resolveAugment, dihedral4 } from 'tta-lens'
 * const turn = orThrow(resolveAugment([{ op: 'd4', element: dihedral4.d4(1, false) }], 2, 3))
 * const image = { data: Float32Array.of(0, 1, 2, 3, 4, 5), offset: 0, planes: 1, height: 2, width: 3 }
 * // Two views (the image as it is, and turned) in one buffer of 12 values.
 * const batch = jsBackend().batch?.({ length: 12, sourceLength: 6, maxBytes: 2 ** 20 })
 * if (batch !== undefined) {
 *   batch.source(image)
 *   batch.augment([], 0)
 *   batch.augment(turn, 6)
 *   assert.deepStrictEqual(Array.from(batch.data), [0, 1, 2, 3, 4, 5, 2, 5, 1, 4, 0, 3])
 * }
 * @category model
 */
export interface BatchBuffer {
  /**
   * The model input: exactly the requested number of values. It is never detached or moved while
   * the buffer is held (a backend that keeps it in memory of its own does not grow that memory).
   */
  readonly data: Float32Array
  /** The planes the following `augment` calls read; called once per chunk, before its views. */
  readonly source: (src: PlaneBlock) => void
  /** Writes the source through `stages` into `data` from `dstOffset`: the values `Backend.augment` would write. */
  readonly augment: (stages: readonly Stage[], dstOffset: number) => void | Promise<void>
  /**
   * Optional: the holder is done with `data` (the interpreter calls it when the run ends, however
   * it ends, or before it asks for the next chunk's input); the backend may hand the same memory
   * out again, so `data` must not be read after it.
   */
  readonly release?: () => void
}

/** How a plan's stages are executed on data; pass one as the `backend` option to choose where kernels run. @category model */
export interface Backend {
  readonly name: BackendName
  /** What actually runs, and why (e.g. `gpujs webasm: no WebGPU adapter; headlessgl did not initialise`). */
  readonly detail: string
  /** Writes `src` through `stages` into `dst` starting at `dstOffset`. */
  readonly augment: (stages: readonly Stage[], src: PlaneBlock, dst: Float32Array, dstOffset: number) => void | Promise<void>
  /**
   * Maps `src` back through `stages` and reduces it into `acc` (same length as the result) with
   * `write`. Returns the first index of `acc` whose incoming value the merge refused, or -1.
   */
  readonly reduce: (stages: readonly Stage[], src: PlaneBlock, acc: Float64Array, write: WriteMode) => number | Promise<number>
  /**
   * Optional: a model input of the backend's own, which its views are written into (the js backend
   * keeps it in WebAssembly memory with a copy of the source, so a turn is one pass from one into
   * the other). Returns undefined when it has none to give for this request (too large for
   * `maxBytes`, or nothing faster than `augment` into an ordinary array): the interpreter then
   * allocates the input itself and calls `augment`.
   */
  readonly batch?: (request: BatchRequest) => BatchBuffer | undefined
}

/**
 * The built-in backends that sum in float64 and store float32 (js, reference): a gather, or a
 * nearest, bilinear or area resample (non-negative weights that sum to 1), of finite values writes
 * values within their range, so finite. The interpreter skips its after-augment check of such
 * views on these backends; any other backend's views (a user's, gpu.js's float32 arithmetic) are
 * checked as before.
 */
const rangeKeeping = new WeakSet<Backend>()

/** Marks a built-in float64 backend (see {@link keepsRange}). @internal */
export const rangeKeepingBackend = <B extends Backend>(backend: B): B => {
  rangeKeeping.add(backend)
  return backend
}

/** Whether `backend` writes a view of finite planes in their range when `stages` only move and average them. @internal */
export const keepsRange = (backend: Backend, stages: readonly Stage[]): boolean =>
  rangeKeeping.has(backend) && stages.every((stage) =>
    stage.kind === 'gather' || (stage.kind === 'resample' && stage.mode !== 'bicubic'))
