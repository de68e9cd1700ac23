/**
 * The reference backend behind the `Backend` interface: stages run one at a time by the plain
 * loops of `execute.ts`, then copied or reduced element by element. Slow and obviously right.
 *
 * @since 0.2.0
 */
import type { WriteMode } from '../../../kernels/ir.js'
import { rangeKeepingBackend, type Backend, type PlaneBlock } from '../backend.js'
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

/**
 * The reference backend: slow, plain loops that are easy to trust. Use it to cross-check another
 * backend's result, or when debugging a custom transform.
 * @example
 * import { orThrow, referenceBackend, resolveAugment, dihedral4 } from 'tta-lens'
 * const mirror = orThrow(resolveAugment([{ op: 'd4', element: dihedral4.d4(0, true) }], 2, 3))
 * const out = new Float32Array(6)
 * referenceBackend().augment(mirror, { data: Float32Array.of(0, 1, 2, 3, 4, 5), offset: 0, planes: 1, height: 2, width: 3 }, out, 0)
 * assert.deepStrictEqual(Array.from(out), [2, 1, 0, 5, 4, 3])
 * @category constructors
 */
export const referenceBackend = (): Backend => rangeKeepingBackend({
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
