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
}
