/**
 * Lowering: resolved stages (from `resolveAugment` / `resolveUndoMask`) → kernels. Every run of
 * gathers around at most one resample becomes one `GatherKernel`; Add/Multiply fold into its scale
 * and shift. A chain with two resamples (a Scale and a Resize in one product) needs two kernels.
 *
 * @since 0.2.0
 */
import { identityMap, thenMap, type AffineIndexMap } from '../src/transform/d4.js'
import type { Fill, Stage } from '../src/transform/step.js'
import { axisTaps } from '../src/backend/reference/resample.js'
import type { GatherKernel, Kernel, WriteMode } from './ir.js'

interface Pending {
  inHeight: number
  inWidth: number
  pre: AffineIndexMap
  fill: Fill | undefined
  resample: GatherKernel['resample']
  post: AffineIndexMap | undefined
  scale: number
  shift: number
}

const fresh = (height: number, width: number): Pending => ({
  inHeight: height, inWidth: width, pre: identityMap(height, width), fill: undefined, resample: undefined, post: undefined, scale: 1, shift: 0,
})

const isIdentity = (m: AffineIndexMap, height: number, width: number): boolean =>
  m.outHeight === height && m.outWidth === width && m.ii === 1 && m.ij === 0 && m.i0 === 0 && m.ji === 0 && m.jj === 1 && m.j0 === 0

const isTrivial = (p: Pending): boolean =>
  p.fill === undefined && p.resample === undefined && p.scale === 1 && p.shift === 0 && isIdentity(p.pre, p.inHeight, p.inWidth)

const outSizeOf = (p: Pending): readonly [number, number] =>
  p.post !== undefined ? [p.post.outHeight, p.post.outWidth] : [p.pre.outHeight, p.pre.outWidth]

const finish = (p: Pending, planes: number, write: WriteMode): GatherKernel => {
  const [outHeight, outWidth] = outSizeOf(p)
  const base = {
    kind: 'gather' as const, planes, inHeight: p.inHeight, inWidth: p.inWidth, outHeight, outWidth,
    pre: p.pre, scale: p.scale, shift: p.shift, write,
    ...(p.fill === undefined ? {} : { fill: p.fill }),
  }
  return p.resample === undefined
    ? { ...base, post: identityMap(outHeight, outWidth) }
    : { ...base, resample: p.resample, post: p.post ?? identityMap(outHeight, outWidth) }
}

/**
 * Lowers the stages that take a `height`×`width` plane (× `planes`) to the view. Intermediate
 * kernels store; the last one writes with `write`.
 */
export const lower = (stages: readonly Stage[], planes: number, height: number, width: number, write: WriteMode): readonly Kernel[] => {
  const kernels: Kernel[] = []
  let p = fresh(height, width)
  const flush = (): void => {
    kernels.push(finish(p, planes, 'store'))
    const [h, w] = outSizeOf(p)
    p = fresh(h, w)
  }
  for (const stage of stages) {
    switch (stage.kind) {
      case 'gather':
        // A gather that can step outside the plane starts a kernel of its own unless nothing precedes it.
        if (stage.fill !== undefined && !isTrivial(p)) flush()
        if (stage.fill !== undefined) p.fill = stage.fill
        if (p.resample === undefined) p.pre = thenMap(p.pre, stage.map)
        else p.post = thenMap(p.post ?? identityMap(stage.inHeight, stage.inWidth), stage.map)
        break
      case 'resample': {
        if (p.resample !== undefined || p.scale !== 1 || p.shift !== 0) flush()
        const [fromHeight, fromWidth] = outSizeOf(p)
        p.resample = {
          rows: axisTaps(fromHeight, stage.outHeight, stage.mode, stage.alignCorners),
          cols: axisTaps(fromWidth, stage.outWidth, stage.mode, stage.alignCorners),
          fromHeight, fromWidth,
        }
        p.post = identityMap(stage.outHeight, stage.outWidth)
        break
      }
      case 'pointwise':
        p.scale *= stage.scale
        p.shift = p.shift * stage.scale + stage.shift
        break
      case 'custom': {
        if (!isTrivial(p)) flush()
        kernels.push({ kind: 'opaque', stage, planes, inHeight: p.inHeight, inWidth: p.inWidth })
        p = fresh(stage.outHeight, stage.outWidth)
        break
      }
    }
  }
  const last = finish(p, planes, write)
  kernels.push(last)
  return kernels
}
