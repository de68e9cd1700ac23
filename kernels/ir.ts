/**
 * The kernel IR: one small language for everything the pipeline does to pixels.
 *
 * A `GatherKernel` is a view's whole chain as one gather: output pixel (i, j) of every plane maps
 * through an affine map `post` into the frame of an optional separable resample, whose taps name
 * source positions (r, s) that map through an affine map `pre` into the source plane; the value is
 * then scaled and shifted (Add/Multiply) and *written* by a `WriteMode`: stored (augmenting into a
 * batched model-input buffer), or reduced into a running merge (deaugment and merge fused).
 *
 * Kernels are data built only from validated numbers and typed arrays; renderers turn them into
 * source text for the CPU (plain JavaScript) and for gpu.js. No user string ever reaches a renderer.
 *
 * @since 0.2.0
 */
import type { AffineIndexMap } from '../src/transform/d4.js'
import type { Fill, Stage } from '../src/transform/step.js'

/** One axis of a separable resample: output position `o` reads `index[o·taps + k]` with `weight[o·taps + k]`. */
export interface AxisTable {
  readonly taps: number
  readonly index: Int32Array
  readonly weight: Float64Array
}

/**
 * How a kernel writes each value `v` into `dst[o]` — the reductions across views:
 * `store` (dst = v), `add` (mean, sum), `add-log` (gmean in log space), `add-sqrt` (tsharpen),
 * `max`, `min`. Reducing writes also report the first value the merge cannot take (NaN; a
 * negative for add-log/add-sqrt).
 */
export type WriteMode = 'store' | 'add' | 'add-log' | 'add-sqrt' | 'max' | 'min'

/** @category model */
export interface GatherKernel {
  readonly kind: 'gather'
  /** Planes (N·C) processed together. */
  readonly planes: number
  readonly inHeight: number
  readonly inWidth: number
  readonly outHeight: number
  readonly outWidth: number
  /** Output (i, j) → position in the resample's output frame (or in the source when there is no resample). */
  readonly post: AffineIndexMap
  readonly resample?: {
    readonly rows: AxisTable
    readonly cols: AxisTable
    /** Size of the frame the taps read from (before `pre`). */
    readonly fromHeight: number
    readonly fromWidth: number
  }
  /** Position in the resample's input frame → source position. */
  readonly pre: AffineIndexMap
  /** Source positions outside the plane (only after a translation) read zeros or the edge. */
  readonly fill?: Fill
  readonly scale: number
  readonly shift: number
  readonly write: WriteMode
}

/** A stage the IR cannot express (a user's custom gather function): run by the reference backend. */
export interface OpaqueKernel {
  readonly kind: 'opaque'
  readonly stage: Stage
  readonly planes: number
  readonly inHeight: number
  readonly inWidth: number
}

/** @category model */
export type Kernel = GatherKernel | OpaqueKernel

/** The value a reducing write starts from. */
export const writeIdentity = (write: WriteMode): number =>
  write === 'max' ? Number.NEGATIVE_INFINITY : write === 'min' ? Number.POSITIVE_INFINITY : 0

/**
 * Where a kernel's `pre` map reads in a row-major source plane, in floats: `origin` is frame
 * position (0, 0), and each frame row and column moves the read by `row` and `col`.
 */
export const preSteps = (k: GatherKernel): { readonly row: number; readonly col: number; readonly origin: number } => {
  const m = k.pre
  return { row: m.ii * k.inWidth + m.ji, col: m.ij * k.inWidth + m.jj, origin: m.i0 * k.inWidth + m.j0 }
}
