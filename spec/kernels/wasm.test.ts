/**
 * The WebAssembly side of kernel generation: the encoder's numbers and module layout, the
 * structure checks that keep a malformed module from being built, what the renderer makes of a
 * quarter turn (snapshots of its listing), and that every rendered module validates. Whether the
 * modules compute the right values is the agreement property in spec/backend.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aliases, orThrow, product, resolveAugment, resolveUndoMask, transforms as T, views, type AnyFactor } from '../../src/index.js'
import { lower } from '../../kernels/lower.js'
import type { GatherKernel, Kernel } from '../../kernels/ir.js'
import { afterGather, renderWasm, renderWasmResample, wasmGatherOf, wasmResampleOf, type WasmGather } from '../../kernels/render-wasm.js'
import { renderJs, rowCacheSlots } from '../../kernels/render-js.js'
import { encodeInstr, encodeModule, i32, listing, sleb, u32, uleb, type WasmModule } from '../../kernels/wasm.js'
import { setUpWasm } from '../../src/backend/wasm.js'

const engine: unknown = Reflect.get(globalThis, 'WebAssembly')
const validates = (bytes: Uint8Array): boolean => Reflect.apply(Reflect.get(Object(engine), 'validate'), engine, [bytes]) === true

const gathers = (kernels: readonly Kernel[]): GatherKernel[] => kernels.flatMap((k) => (k.kind === 'gather' ? [k] : []))
const d4View = (index: number, height: number, width: number, planes = 3): GatherKernel[] =>
  gathers(lower(orThrow(resolveAugment(views(aliases.d4())[index]?.steps ?? [], height, width)), planes, height, width, 'store'))

describe('LEB128 numbers', () => {
  it('encodes the specification\'s examples and the edges of each byte', () => {
    expect(uleb(0)).toEqual([0x00])
    expect(uleb(127)).toEqual([0x7f])
    expect(uleb(128)).toEqual([0x80, 0x01])
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26])
    expect(uleb(0xffff_ffff)).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f])
    expect(sleb(0)).toEqual([0x00])
    expect(sleb(-1)).toEqual([0x7f])
    expect(sleb(63)).toEqual([0x3f])
    expect(sleb(64)).toEqual([0xc0, 0x00])
    expect(sleb(-64)).toEqual([0x40])
    expect(sleb(-65)).toEqual([0xbf, 0x7f])
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78])
    expect(sleb(-0x8000_0000)).toEqual([0x80, 0x80, 0x80, 0x80, 0x78])
  })

  it('decodes back to the number it encoded (any 32-bit value)', () => {
    const decode = (bytes: readonly number[], signed: boolean): number => {
      let v = 0
      let shift = 0
      for (const b of bytes) {
        v += (b & 0x7f) * 2 ** shift
        shift += 7
      }
      const last = bytes[bytes.length - 1] ?? 0
      return signed && (last & 0x40) !== 0 ? v - 2 ** shift : v
    }
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff_ffff }), (n) => decode(uleb(n), false) === n))
    fc.assert(fc.property(fc.integer({ min: -0x8000_0000, max: 0x7fff_ffff }), (n) => decode(sleb(n), true) === n))
  })

  it('refuses anything that is not an integer of the right range: no other value reaches a module', () => {
    for (const bad of [Number.NaN, 1.5, -1, 2 ** 32, Number.POSITIVE_INFINITY]) expect(() => u32(bad)).toThrow(RangeError)
    for (const bad of [Number.NaN, 0.5, 2 ** 31, -(2 ** 31) - 1]) expect(() => i32(bad)).toThrow(RangeError)
    expect(() => encodeInstr(['i32.const', 2 ** 31])).toThrow(RangeError)
    expect(() => encodeInstr(['i8x16.shuffle', [0, 1, 2]])).toThrow(/16 byte indices/)
    expect(() => encodeInstr(['i8x16.shuffle', Array.from({ length: 16 }, () => 32)])).toThrow(/16 byte indices/)
  })
})

describe('modules', () => {
  const fn = (body: WasmModule['functions'][number]['body'], name = 'transpose'): WasmModule => ({ functions: [{ name, params: 1, locals: ['i32'], body }] })

  it('an empty function is the smallest valid module importing the kernel memory', () => {
    const bytes = encodeModule(fn([]))
    expect(Array.from(bytes.slice(0, 8))).toEqual([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00])
    expect(validates(bytes)).toBe(true)
  })

  it('refuses branches out of the function, unbalanced blocks, unknown locals and names that are not plain', () => {
    expect(() => encodeModule(fn([['br', 0]]))).toThrow(/branches 0 levels out of 0/)
    expect(() => encodeModule(fn([['loop'], ['br_if', 1], ['end']]))).toThrow(/branches 1 levels out of 1/)
    expect(() => encodeModule(fn([['block']]))).toThrow(/leaves 1 blocks open/)
    expect(() => encodeModule(fn([['end']]))).toThrow(/never opened/)
    expect(() => encodeModule(fn([['local.get', 2]]))).toThrow(/no local 2/)
    expect(() => encodeModule(fn([], 'x"); alert(1)'))).toThrow(/not a plain name/)
  })
})

describe('the WebAssembly renderer', () => {
  it('takes quarter turns (any write) and mirrored rows (plain stores that are not half turns of whole planes), nothing else', () => {
    const taken = views(aliases.d4()).map((_, k) => d4View(k, 5, 7).map((g) => wasmGatherOf(g) !== undefined))
    // d4 order: identity, 90, 180, 270, flip, flip·90, flip·180, flip·270.
    expect(taken).toEqual([[false], [true], [false], [true], [true], [true], [false], [true]])
    const undo = (k: number) => gathers(lower(orThrow(resolveUndoMask(views(aliases.d4())[k]?.steps ?? [], 5, 7)), 2, k % 2 === 1 ? 7 : 5, k % 2 === 1 ? 5 : 7, 'add'))
    // Merging: turns go to WebAssembly, mirrored rows stay a JavaScript loop (the add is one pass either way).
    expect(views(aliases.d4()).map((_, k) => undo(k).map((g) => wasmGatherOf(g) !== undefined))).toEqual([[false], [true], [false], [true], [false], [true], [false], [true]])
    expect(undo(3).map((g) => wasmGatherOf(g))).toEqual([{ planes: 2, inHeight: 7, inWidth: 5, outHeight: 5, outWidth: 7, map: { outHeight: 5, outWidth: 7, ii: 0, ij: 1, i0: 0, ji: -1, jj: 0, j0: 4 } }])
  })

  it('straight into a batch in WebAssembly memory: every turn, mirror and reversed row order of a store (scaled or not, half turns too), but not whole rows in order', () => {
    const batchTaken = views(aliases.d4()).map((_, k) => d4View(k, 5, 7).map((g) => wasmGatherOf(g, 'batch') !== undefined))
    // d4 order: identity, 90, 180, 270, flip, flip·90, flip·180 (a vertical flip: rows in reverse order), flip·270.
    expect(batchTaken).toEqual([[false], [true], [true], [true], [true], [true], [true], [true]])
    const [half] = d4View(2, 5, 7)
    if (half === undefined) throw new Error('no kernel')
    expect(wasmGatherOf({ ...half, scale: 2, shift: 1 }, 'batch')).toBeDefined()
    expect(wasmGatherOf({ ...half, scale: 2, shift: 1 })).toBeUndefined() // through scratch memory, a half turn stays JavaScript
    expect(wasmGatherOf({ ...half, write: 'add' }, 'batch')).toBeUndefined() // a batch is only ever stored into
  })

  it('leaves an identity map with the kernel\'s write, which renders as one copy when it stores', () => {
    const [turn] = d4View(1, 5, 7)
    if (turn === undefined) throw new Error('no kernel')
    // Three planes of 7 turned rows, contiguous: 21 rows of 5.
    const rest = afterGather(turn, 21)
    expect([rest.planes, rest.inHeight, rest.inWidth, rest.outHeight, rest.outWidth, rest.write]).toEqual([1, 21, 5, 21, 5, 'store'])
    expect(renderJs(rest)).toContain('dst.set(src.subarray(srcBase, srcBase + 105), dstBase);')
  })

  it('renders every d4 turn, mirror and reversed row order of every size from 1×1 to 40×40 as a module under 4 KiB that validates', () => {
    fc.assert(fc.property(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 40 }), fc.constantFrom(1, 2, 3, 4, 5, 6, 7), (h, w, view) => {
      const g = d4View(view, h, w, 1).map((k) => wasmGatherOf(k, 'batch'))[0]
      const bytes = g === undefined ? undefined : encodeModule(renderWasm(g))
      // Under 4 KiB, the most a browser compiles synchronously on its main thread.
      return bytes !== undefined && bytes.length < 4096 && validates(bytes)
    }), { numRuns: 100 })
  })

  it('keeps modules small for large planes too (4096×4096: offsets need more LEB128 bytes)', () => {
    for (const view of [1, 4, 7]) {
      const g = d4View(view, 4096, 4096, 1).map((k) => wasmGatherOf(k))[0]
      const bytes = g === undefined ? undefined : encodeModule(renderWasm(g))
      expect(bytes !== undefined && validates(bytes)).toBe(true)
      expect(bytes?.length).toBeLessThan(4096)
    }
  })

  it('refuses sizes that are not positive integers, other maps, and maps that read outside the source, before anything is encoded', () => {
    const map = { outHeight: 4, outWidth: 4, ii: 0, ij: 1, i0: 0, ji: -1, jj: 0, j0: 3 }
    const g: WasmGather = { planes: 1, inHeight: 4, inWidth: 4, outHeight: 4, outWidth: 4, map }
    expect(() => renderWasm(g)).not.toThrow()
    expect(() => renderWasm({ ...g, inWidth: 4.5 })).toThrow(/plane size 4.5 is not a positive integer/)
    expect(() => renderWasm({ ...g, outHeight: 0 })).toThrow(/plane size 0/)
    expect(() => renderWasm({ ...g, map: { ...map, ii: 1, ij: 1, ji: 0, jj: 1, j0: 0 } })).toThrow(/neither swaps the axes nor mirrors or copies the rows/)
    expect(() => renderWasm({ ...g, map: { ...map, ii: 2, ij: 0, ji: 0, jj: 1, j0: 0 } })).toThrow(/neither swaps/)
    expect(() => renderWasm({ ...g, map: { ...map, ii: 1, ij: 0, ji: 0, jj: 1, j0: 0 } })).not.toThrow() // forward rows in order: a valid 'rows' module
    expect(() => renderWasm({ ...g, map: { ...map, j0: 2 } })).toThrow(/output \(3, 0\) would read \(0, -1\) outside the 4×4 source/)
    expect(() => renderWasm({ ...g, outWidth: 5 })).toThrow(/would read \(4, 3\)/)
  })

  const scaledKernel = (factor: number, interpolation: 'bilinear' | 'bicubic' | 'nearest' | 'area', height: number, width: number, after: readonly AnyFactor[] = []): GatherKernel | undefined =>
    gathers(lower(orThrow(resolveAugment(views(product(orThrow(T.scale([factor], { interpolation })), ...after)).at(-1)?.steps ?? [], height, width)), 2, height, width, 'store'))[0]

  it('resamples into a batch: 2–4 taps a side (or 1 and more), rows of the view in order, at most 16 cache slots; the module validates for every size with tails', () => {
    const taken = (k: GatherKernel | undefined): boolean => k?.resample !== undefined && wasmResampleOf(k, rowCacheSlots(k.resample.rows)) !== undefined
    expect(taken(scaledKernel(1.5, 'bilinear', 8, 6))).toBe(true)
    expect(taken(scaledKernel(1.5, 'bicubic', 8, 6))).toBe(true)
    expect(taken(scaledKernel(1.5, 'nearest', 8, 6))).toBe(false) // one tap each way: nothing to cache
    expect(taken(scaledKernel(1.5, 'bilinear', 8, 6, [T.hflip()]))).toBe(false) // mirrored after: moved from the plain view instead
    expect(taken(scaledKernel(1.5, 'bilinear', 8, 6, [orThrow(T.rotate90([90]))]))).toBe(false)
    expect(taken(scaledKernel(0.05, 'area', 200, 200))).toBe(false) // 20 taps a side
    for (let size = 1; size <= 13; size++) {
      for (const interpolation of ['bilinear', 'bicubic'] as const) {
        const k = scaledKernel(1.5, interpolation, size, size + 2)
        const r = k?.resample === undefined ? undefined : wasmResampleOf(k, rowCacheSlots(k.resample.rows))
        if (r === undefined) throw new Error(`${interpolation} ${size}: not a WebAssembly resample`)
        expect(validates(encodeModule(renderWasmResample(r))), `${interpolation} ${size}`).toBe(true)
      }
    }
    const k = scaledKernel(2, 'bilinear', 4, 4)
    const r = k?.resample === undefined ? undefined : wasmResampleOf(k, rowCacheSlots(k.resample.rows))
    if (r === undefined) throw new Error('not a WebAssembly resample')
    expect(() => renderWasmResample({ ...r, outWidth: 0 })).toThrow(/resample size 0 is not a positive integer/)
    expect(() => renderWasmResample({ ...r, left: 1 })).toThrow(/not inside the resample's frame/)
    expect(() => renderWasmResample({ ...r, slots: 3 })).toThrow(/3 cache slots is not a power of two/)
  })

  // Snapshots: a turn small enough for 4×4 blocks and value-by-value edges only, one tall enough
  // for the 16-row bands, and a mirror with a 16-value main loop and an edge.
  for (const [name, view, h, w] of [['rot90 of 5×7 (blocks and edges)', 1, 5, 7], ['flip·rot270 of 6×18 (bands of 16 rows)', 7, 6, 18], ['hflip of 2×19 (16 values a step, then the edge)', 4, 2, 19]] as const) {
    it(`listing: ${name}`, () => {
      const g = d4View(view, h, w).map((k) => wasmGatherOf(k))[0]
      if (g === undefined) throw new Error('not a WebAssembly gather')
      expect(listing(renderWasm(g))).toMatchSnapshot()
    })
  }
})

describe('where WebAssembly SIMD cannot run', () => {
  it('says why, so the js backend keeps its JavaScript loops', () => {
    expect(setUpWasm(undefined)).toEqual({ reason: 'this JavaScript engine has no WebAssembly' })
    expect(setUpWasm({ Memory: engine })).toEqual({ reason: 'WebAssembly lacks Memory, Module, Instance or validate' })
    // An engine that knows WebAssembly but not its SIMD instructions refuses to validate the module.
    const noSimd = new Proxy(Object(engine), { get: (target, key) => (key === 'validate' ? () => false : Reflect.get(target, key)) })
    expect(setUpWasm(noSimd)).toEqual({ reason: 'Error: the engine refuses WebAssembly SIMD (module did not validate)' })
    expect(setUpWasm(engine)).toHaveProperty('kernels')
  })

  it('a gather whose memory cannot grow says so before handing anything over (the backend then runs JavaScript)', () => {
    // An engine whose memories never grow: the probe fits in the first page, a 512×512 turn does not.
    const Memory = Reflect.get(Object(engine), 'Memory')
    const fixed = function (this: unknown, descriptor: unknown): unknown {
      return Reflect.construct(Memory, [{ ...Object(descriptor), maximum: 1 }])
    }
    const noGrow = new Proxy(Object(engine), { get: (target, key) => (key === 'Memory' ? fixed : Reflect.get(target, key)) })
    const set = setUpWasm(noGrow)
    if (!('kernels' in set)) throw new Error(`no kernels: ${set.reason}`)
    const g = d4View(1, 512, 512, 1).map((k) => wasmGatherOf(k))[0]
    if (g === undefined) throw new Error('not a turn')
    let handed = 0
    expect(set.kernels.gather(g, new Float32Array(512 * 512), 0, () => { handed++ })).toMatch(/could not grow/)
    expect(handed).toBe(0)
    // A batch is a memory of its own, made at its final size: refused by such an engine, with its reason.
    expect(set.kernels.batch(512 * 512, 512 * 512, 2 ** 30)).toMatch(/RangeError/)
    const small = setUpWasm(engine)
    if (!('kernels' in small)) throw new Error(`no kernels: ${small.reason}`)
    expect(small.kernels.batch(512 * 512, 512 * 512, 2 ** 20)).toBe('a WebAssembly batch of 2097152 bytes is more than the 1048576 bytes the budget leaves')
    const made = small.kernels.batch(16, 16, 2 ** 20)
    if (typeof made === 'string') throw new Error(made)
    // Gathers that would reach outside the block are refused before the module runs.
    expect(made.gather({ ...g, planes: 1, inHeight: 4, inWidth: 4, outHeight: 4, outWidth: 4, map: { outHeight: 4, outWidth: 4, ii: 0, ij: 1, i0: 0, ji: 1, jj: 0, j0: 0 } }, made.sourceAt + 4, 0)).toBe(`a gather of [${made.sourceAt + 4}, ${made.sourceAt + 20}) into [0, 16) falls outside the batch or onto what it reads`)
    expect(made.gather({ ...g, planes: 1, inHeight: 2, inWidth: 2, outHeight: 2, outWidth: 2, map: { outHeight: 2, outWidth: 2, ii: 0, ij: 1, i0: 0, ji: 1, jj: 0, j0: 0 } }, 0, 2)).toMatch(/onto what it reads/)
  })
})
