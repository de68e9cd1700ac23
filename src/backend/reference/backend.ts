/**
 * The reference backend behind the `Backend` interface: stages run one at a time by the plain
 * loops of `execute.ts`, then copied or reduced element by element. Slow and obviously right.
 *
 * @since 0.2.0
 */
import type { WriteMode } from '../../../kernels/ir.js'
import type { Backend, PlaneBlock } from '../backend.js'
import { runStages } from './execute.js'

const planesOf = (src: PlaneBlock) => ({
  data: src.data.subarray(src.offset, src.offset + src.planes * src.height * src.width),
  planes: src.planes, height: src.height, width: src.width,
})

/** Reduces one value; false when the merge refuses it. @internal */
export const reduceValue = (acc: Float64Array, o: number, v: number, write: WriteMode): boolean => {
  const prior = acc[o] ?? 0
  switch (write) {
    case 'store': acc[o] = v; return true
    case 'add': acc[o] = prior + v; return !Number.isNaN(v)
    case 'add-log': acc[o] = prior + Math.log(v); return v >= 0
    case 'add-sqrt': acc[o] = prior + Math.sqrt(v); return v >= 0
    case 'max': if (v > prior) acc[o] = v; return !Number.isNaN(v)
    case 'min': if (v < prior) acc[o] = v; return !Number.isNaN(v)
  }
}

/** @category constructors */
export const referenceBackend = (): Backend => ({
  name: 'reference',
  detail: 'reference: plain TypeScript loops, one stage at a time',
  augment: (stages, src, dst, dstOffset) => {
    dst.set(runStages(planesOf(src), stages).data, dstOffset)
  },
  reduce: (stages, src, acc, write) => {
    const out = runStages(planesOf(src), stages).data
    let bad = -1
    for (let o = 0; o < out.length; o++) {
      if (!reduceValue(acc, o, out[o] ?? Number.NaN, write) && bad < 0) bad = o
    }
    return bad
  },
})
