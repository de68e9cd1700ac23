/**
 * The reference backend: runs resolved stages over NCHW `Float32Array`s with plain loops, written
 * for clarity. It is the correctness oracle that generated kernels are checked against.
 *
 * @since 0.1.0
 */
import type { Fill, Stage } from '../../transform/step.js'
import { resamplePlanes } from './resample.js'

/** A batch of planes: `planes` = N·C consecutive `height`×`width` planes. @category model */
export interface Planes {
  readonly data: Float32Array
  readonly planes: number
  readonly height: number
  readonly width: number
}

const gather = (src: Planes, outHeight: number, outWidth: number, source: (i: number, j: number) => readonly [number, number], fill?: Fill): Planes => {
  const out = new Float32Array(src.planes * outHeight * outWidth)
  const inPlane = src.height * src.width
  const outPlane = outHeight * outWidth
  for (let i = 0; i < outHeight; i++) {
    for (let j = 0; j < outWidth; j++) {
      const [ri, rj] = source(i, j)
      const inside = ri >= 0 && ri < src.height && rj >= 0 && rj < src.width
      const to = i * outWidth + j
      if (!inside && fill === 'zeros') continue // already 0
      // 'edge' reads the nearest pixel of the plane; without a fill every map stays inside.
      const si = Math.min(Math.max(ri, 0), src.height - 1)
      const sj = Math.min(Math.max(rj, 0), src.width - 1)
      const from = si * src.width + sj
      for (let p = 0; p < src.planes; p++) out[p * outPlane + to] = src.data[p * inPlane + from] ?? Number.NaN
    }
  }
  return { data: out, planes: src.planes, height: outHeight, width: outWidth }
}

/** Runs one stage. @category execution */
export const runStage = (src: Planes, stage: Stage): Planes => {
  switch (stage.kind) {
    case 'gather': {
      const m = stage.map
      return gather(src, m.outHeight, m.outWidth, (i, j) => [m.ii * i + m.ij * j + m.i0, m.ji * i + m.jj * j + m.j0], stage.fill)
    }
    case 'custom':
      return gather(src, stage.outHeight, stage.outWidth, stage.source)
    case 'resample':
      return {
        data: resamplePlanes(src.data, src.planes, src.height, src.width, stage.outHeight, stage.outWidth, stage.mode, stage.alignCorners),
        planes: src.planes,
        height: stage.outHeight,
        width: stage.outWidth,
      }
    case 'pointwise':
      // Float32 like the data, so x·1 + 0 is exact and Add/Multiply match PyTorch's float32 ops.
      return { ...src, data: src.data.map((v) => Math.fround(v * stage.scale + stage.shift)) }
  }
}

/** Runs stages in order. @category execution */
export const runStages = (src: Planes, stages: readonly Stage[]): Planes => stages.reduce(runStage, src)
