/**
 * Generated kernel source: snapshots of what each renderer writes for representative views, and
 * the guarantees that make generating code safe — numbers only, validated, never user text.
 */
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { aliases, orThrow, product, resolveAugment, resolveUndoMask, transforms as T, views, type AnyFactor } from '../../src/index.js'
import { lower } from '../../kernels/lower.js'
import { int, real, renderJs } from '../../kernels/render-js.js'
import { fitsFloat32Indices, renderGpuJs } from '../../kernels/render-gpujs.js'
import type { GatherKernel, Kernel } from '../../kernels/ir.js'
import { gpujsBackend } from '../../src/backend/gpujs.js'

const gathers = (kernels: readonly Kernel[]): GatherKernel[] => kernels.flatMap((k) => (k.kind === 'gather' ? [k] : []))

const cases: readonly { name: string; kernels: () => readonly Kernel[] }[] = [
  { name: 'd4 rot90 view, augment', kernels: () => lower(orThrow(resolveAugment(views(aliases.d4())[1]?.steps ?? [], 4, 6)), 3, 4, 6, 'store') },
  { name: 'hflip, undo into a mean', kernels: () => lower(orThrow(resolveUndoMask(views(aliases.hflip())[1]?.steps ?? [], 4, 6)), 2, 4, 6, 'add') },
  { name: 'flip · bilinear ×2 · multiply, augment', kernels: () => lower(orThrow(resolveAugment(views(product(T.vflip(), orThrow(T.scale([2], { interpolation: 'bilinear' })), orThrow(T.multiply([0.5]))))[7]?.steps ?? [], 3, 5)), 1, 3, 5, 'store') },
  { name: 'translate with zeros, augment', kernels: () => lower(orThrow(resolveAugment(views(product(orThrow(T.translate([[1, -2]]))))[1]?.steps ?? [], 4, 4)), 1, 4, 4, 'store') },
  { name: 'd4 identity view, augment (one copy of all planes)', kernels: () => lower(orThrow(resolveAugment(views(aliases.d4())[0]?.steps ?? [], 4, 6)), 3, 4, 6, 'store') },
  { name: 'd4 rot180 view, augment (a copy and a reverse per plane)', kernels: () => lower(orThrow(resolveAugment(views(aliases.d4())[2]?.steps ?? [], 4, 6)), 3, 4, 6, 'store') },
  { name: 'nearest ×0.5 undo into a gmean', kernels: () => lower(orThrow(resolveUndoMask(views(product(orThrow(T.scale([0.5]))))[1]?.steps ?? [], 8, 6)), 1, 8, 6, 'add-log') },
]

describe('generated kernel source', () => {
  for (const c of cases) {
    it(`js: ${c.name}`, () => {
      const sources = gathers(c.kernels()).map(renderJs)
      expect(sources.length).toBeGreaterThan(0)
      expect(sources.join('\n\n')).toMatchSnapshot()
    })
    it(`gpu.js: ${c.name}`, () => {
      expect(gathers(c.kernels()).map(renderGpuJs).join('\n\n')).toMatchSnapshot()
    })
  }

  it('row-contiguous maps render as row copies (whole planes as one), mirrored rows as copies reversed in place, the rest as strided walks', () => {
    const vflip = gathers(lower(orThrow(resolveAugment(views(aliases.vflip())[1]?.steps ?? [], 4, 6)), 3, 4, 6, 'store'))
    expect(vflip.map(renderJs).join()).toMatch(/dst\.set\(src\.subarray/)
    const hflip = gathers(lower(orThrow(resolveAugment(views(aliases.hflip())[1]?.steps ?? [], 4, 6)), 3, 4, 6, 'store'))
    expect(hflip.map(renderJs).join()).toMatch(/\.reverse\(\)/)
    const turn = gathers(lower(orThrow(resolveAugment(views(aliases.d4())[1]?.steps ?? [], 4, 6)), 3, 4, 6, 'store'))
    expect(turn.map(renderJs).join()).toMatch(/q \+= 6/)
    // Whole planes: one copy for all planes forward, a copy and one native reverse per plane for a half turn.
    const identity = gathers(lower(orThrow(resolveAugment(views(aliases.d4())[0]?.steps ?? [], 4, 6)), 3, 4, 6, 'store'))
    expect(identity.map(renderJs).join()).toMatch(/dst\.set\(src\.subarray\(srcBase, srcBase \+ 72\), dstBase\);\n  return -1;/)
    const half = gathers(lower(orThrow(resolveAugment(views(aliases.d4())[2]?.steps ?? [], 4, 6)), 3, 4, 6, 'store'))
    expect(half.map(renderJs).join()).toMatch(/dst\.subarray\(d, d \+ 24\)\.reverse\(\)/)
  })

  it('a resample with several taps keeps each source row resampled along its columns once (rows cached); after a turn each frame row fills a column', () => {
    const scaled = (...after: readonly AnyFactor[]): string => gathers(lower(orThrow(resolveAugment(views(product(orThrow(T.scale([1.5], { interpolation: 'bilinear' })), ...after)).at(-1)?.steps ?? [], 8, 6)), 2, 8, 6, 'store')).map(renderJs).join()
    expect(scaled()).toMatch(/cache\[at\] = inner;/)
    expect(scaled(T.hflip())).toMatch(/b \+= -1\)/) // the mirror after the resample walks the cached rows backwards
    // 8×6 scaled to 12×9, turned to 9×12: a frame row is an output column, written 12 values apart.
    expect(scaled(orThrow(T.rotate90([90])))).toMatch(/cache\[at\] = inner;[\s\S]*o \+= 12, b \+= /)
    const nearest = gathers(lower(orThrow(resolveAugment(views(product(orThrow(T.scale([1.5])))).at(-1)?.steps ?? [], 8, 6)), 2, 8, 6, 'store'))
    expect(nearest.map(renderJs).join()).not.toMatch(/cache/) // one tap: nothing to share
    // An area average of 3,000 rows into one, 3,000 wide: a cache of a row per tap would be 8192 × 3000 values.
    const tall = gathers(lower(orThrow(resolveAugment(views(product(orThrow(T.resize([[1, 3000]], { interpolation: 'area' })))).at(-1)?.steps ?? [], 3000, 2)), 1, 3000, 2, 'store'))
    expect(tall.map(renderJs).join()).not.toMatch(/cache/)
  })

  it('accepts only finite numbers (and integers where indices are): nothing else can reach the source', () => {
    expect(int(42)).toBe('42')
    expect(real(-0.5)).toBe('-0.5')
    expect(real(-0)).toBe('-0')
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, 1.5, 2 ** 60]) expect(() => int(bad)).toThrow(RangeError)
    for (const bad of [Number.NaN, Number.NEGATIVE_INFINITY]) expect(() => real(bad)).toThrow(RangeError)
    // A transform parameter that is not a finite number never becomes a kernel: it is refused at construction.
    expect(E.isLeft(T.add([Number.NaN]))).toBe(true)
    expect(E.isLeft(T.multiply([Number.POSITIVE_INFINITY]))).toBe(true)
  })

  it('gpu.js kernels whose flat indices reach 2^24 are refused, not silently wrong', async () => {
    const [kernel] = gathers(lower(orThrow(resolveAugment(views(aliases.hflip())[1]?.steps ?? [], 2048, 2048)), 4, 2048, 2048, 'store'))
    expect(kernel).toBeDefined()
    if (kernel === undefined) return
    expect(fitsFloat32Indices(kernel, 4 * 2048 * 2048)).toBe(false)
    const backend = await gpujsBackend('cpu')
    const src = { data: new Float32Array(4 * 2048 * 2048), offset: 0, planes: 4, height: 2048, width: 2048 }
    await expect(Promise.resolve().then(() => backend.augment(views(aliases.hflip())[1]?.steps === undefined ? [] : orThrow(resolveAugment(views(aliases.hflip())[1]?.steps ?? [], 2048, 2048)), src, new Float32Array(4 * 2048 * 2048), 0)))
      .rejects.toThrow(/limit 2\^24/)
  })
})
