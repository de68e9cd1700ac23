/**
 * One plan, many interpreters: every backend must agree with the reference on random shapes,
 * parameters and products — augmenting images and reducing deaugmented masks into every merge.
 * The js backend is checked twice: with its WebAssembly SIMD transposes and with them turned off.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { aliases, orThrow, product, resolveAugment, resolveUndoMask, transforms as T, views, type AnyFactor, type Interpolation } from '../../src/index.js'
import type { Backend } from '../../src/backend/backend.js'
import { gpujsBackend } from '../../src/backend/gpujs.js'
import { jsBackend } from '../../src/backend/js.js'
import { referenceBackend } from '../../src/backend/reference/backend.js'
import type { WriteMode } from '../../kernels/ir.js'
import type { Stage } from '../../src/transform/step.js'

const modes: readonly Interpolation[] = ['nearest', 'nearest-exact', 'bilinear', 'bicubic', 'area']

/** A random product of up to 4 factors drawn from every built-in transform. */
const factorArb: fc.Arbitrary<AnyFactor> = fc.oneof(
  fc.constant(T.hflip()),
  fc.constant(T.vflip()),
  fc.subarray([90, 180, 270, -90, 450], { minLength: 1 }).map((a) => E.getOrElseW(() => T.hflip())(T.rotate90(a))),
  fc.tuple(fc.subarray([0.5, 2, 1.5, 0.75, 3], { minLength: 1 }), fc.constantFrom(...modes), fc.boolean()).map(([k, interpolation, align]) =>
    E.getOrElseW(() => T.hflip())(T.scale(k, { interpolation, alignCorners: align && (interpolation === 'bilinear' || interpolation === 'bicubic') }))),
  fc.tuple(fc.integer({ min: 1, max: 9 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom(...modes)).map(([h, w, interpolation]) =>
    E.getOrElseW(() => T.hflip())(T.resize([[h, w]], { interpolation }))),
  fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([h, w]) => E.getOrElseW(() => T.hflip())(T.fiveCrops(h, w))),
  fc.subarray([-0.5, 0.25, 2], { minLength: 1 }).map((v) => E.getOrElseW(() => T.hflip())(T.add(v))),
  fc.tuple(fc.subarray([[0, 1], [1, 0], [-2, 1], [0, -3]] as const, { minLength: 1 }), fc.constantFrom('zeros', 'edge' as const)).map(([d, fill]) =>
    E.getOrElseW(() => T.hflip())(T.translate(d, { fill }))),
  fc.subarray([0.5, 2, -1], { minLength: 1 }).map((v) => E.getOrElseW(() => T.hflip())(T.multiply(v))),
)

const caseArb = fc.record({
  factors: fc.array(factorArb, { minLength: 1, maxLength: 3 }),
  planes: fc.integer({ min: 1, max: 4 }),
  height: fc.integer({ min: 3, max: 9 }),
  width: fc.integer({ min: 3, max: 9 }),
  seed: fc.integer({ min: 1, max: 1000 }),
})

const fill = (n: number, seed: number, positive = false): Float32Array =>
  Float32Array.from({ length: n }, (_, k) => {
    const v = (((k + 1) * 2654435761 * seed) % 1000) / 250 - (positive ? 0 : 2)
    return Math.fround(positive ? Math.abs(v) + 0.01 : v)
  })

const closeTo = (a: ArrayLike<number>, b: ArrayLike<number>, tol: number): boolean => {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? Number.NaN
    const y = b[i] ?? Number.NaN
    if (!(Math.abs(x - y) <= tol * Math.max(1, Math.abs(y)))) return false
  }
  return true
}

/** The first index where two arrays differ (lengths included), or -1; cheap on large arrays. */
const firstDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Math.min(a.length, b.length)
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i
  return -1
}

const backends: Backend[] = []
beforeAll(async () => {
  backends.push(jsBackend(), jsBackend({ wasm: false }), await gpujsBackend())
})

describe('every backend agrees with the reference', () => {
  const reference = referenceBackend()

  it('augmenting images through every view of random products', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ factors, planes, height, width, seed }) => {
      const src = { data: fill(planes * height * width, seed), offset: 0, planes, height, width }
      for (const view of views(product(...factors))) {
        const stages = resolveAugment(view.steps, height, width)
        if (E.isLeft(stages)) continue // a crop larger than the image: refused the same way by all
        const last = stages.right.reduce((size, s) => (s.kind === 'gather' ? [s.map.outHeight, s.map.outWidth] : s.kind === 'pointwise' ? size : [s.outHeight, s.outWidth]), [height, width])
        const length = planes * (last[0] ?? 0) * (last[1] ?? 0)
        const expected = new Float32Array(length + 3)
        await reference.augment(stages.right, src, expected, 3)
        for (const backend of backends) {
          const got = new Float32Array(length + 3)
          await backend.augment(stages.right, src, got, 3)
          if (!closeTo(got, expected, 2e-6)) throw new Error(`${backend.detail} disagrees on ${view.name} (${height}x${width})`)
        }
      }
    }), { numRuns: 60 })
  })

  it('reducing deaugmented masks with every merge write', async () => {
    const writes: readonly WriteMode[] = ['add', 'add-log', 'add-sqrt', 'max', 'min']
    await fc.assert(fc.asyncProperty(caseArb, fc.constantFrom(...writes), async ({ factors, planes, height, width, seed }, write) => {
      for (const view of views(product(...factors))) {
        const undo = resolveUndoMask(view.steps, height, width)
        const forward = resolveAugment(view.steps, height, width)
        if (E.isLeft(undo) || E.isLeft(forward)) continue // crops cannot undo masks
        const [vh, vw] = forward.right.reduce<readonly number[]>((size, s) => (s.kind === 'gather' ? [s.map.outHeight, s.map.outWidth] : s.kind === 'pointwise' ? size : [s.outHeight, s.outWidth]), [height, width])
        const mask = { data: fill(planes * (vh ?? 0) * (vw ?? 0), seed, true), offset: 0, planes, height: vh ?? 0, width: vw ?? 0 }
        const start = (): Float64Array => new Float64Array(planes * height * width).fill(write === 'max' ? -Infinity : write === 'min' ? Infinity : 0.5)
        const expected = start()
        // Bicubic overshoots below 0, which gmean/tsharpen refuse: every backend must refuse the same index.
        const refused = await reference.reduce(undo.right, mask, expected, write)
        for (const backend of backends) {
          const got = start()
          const theirs = await backend.reduce(undo.right, mask, got, write)
          if (write === 'add-log' || write === 'add-sqrt' ? theirs !== refused && !(refused >= 0 && theirs >= 0) : theirs !== refused) {
            throw new Error(`${backend.detail} refuses index ${theirs}, the reference ${refused}, reducing ${write} on ${view.name}`)
          }
          if (refused < 0 && !closeTo(got, expected, 2e-6)) throw new Error(`${backend.detail} disagrees reducing ${write} on ${view.name}`)
        }
      }
    }), { numRuns: 60 })
  })

  it('the js backend runs its quarter turns and mirrored rows as WebAssembly SIMD here, so the properties check that path', () => {
    expect(jsBackend().detail).toMatch(/quarter turns and mirrored rows as WebAssembly SIMD gathers/)
    expect(jsBackend({ wasm: false }).detail).toMatch(/quarter turns as JavaScript loops \(WebAssembly turned off by the wasm option\)/)
  })

  // Planes up to 40 a side: the SIMD transposes work in bands of 16 rows and blocks of 4, mirrors
  // 16 values at a time, with value-by-value edges, so sizes on both sides of each multiple are drawn.
  const turnCaseArb = fc.record({
    factors: fc.array(fc.oneof(
      fc.constant(T.hflip()),
      fc.constant(T.vflip()),
      fc.subarray([90, 180, 270], { minLength: 1 }).map((a) => E.getOrElseW(() => T.hflip())(T.rotate90(a))),
      fc.tuple(fc.integer({ min: 1, max: 24 }), fc.integer({ min: 1, max: 24 })).map(([h, w]) => E.getOrElseW(() => T.hflip())(T.fiveCrops(h, w))),
      fc.subarray([-0.5, 2], { minLength: 1 }).map((v) => E.getOrElseW(() => T.hflip())(T.multiply(v))),
    ), { minLength: 1, maxLength: 3 }),
    planes: fc.integer({ min: 1, max: 3 }),
    height: fc.integer({ min: 1, max: 40 }),
    width: fc.integer({ min: 1, max: 40 }),
    seed: fc.integer({ min: 1, max: 1000 }),
  })

  it('quarter turns and mirrors with crops and scales on planes up to 40×40: augment and every merge write', async () => {
    const writes: readonly WriteMode[] = ['add', 'add-log', 'add-sqrt', 'max', 'min']
    const js = [jsBackend(), jsBackend({ wasm: false })]
    let turned = 0
    await fc.assert(fc.asyncProperty(turnCaseArb, fc.constantFrom(...writes), async ({ factors, planes, height, width, seed }, write) => {
      const src = { data: fill(planes * height * width, seed), offset: 0, planes, height, width }
      for (const view of views(product(...factors))) {
        const forward = resolveAugment(view.steps, height, width)
        if (E.isLeft(forward)) continue // a crop larger than the image
        const [vh, vw] = forward.right.reduce<readonly number[]>((size, s) => (s.kind === 'gather' ? [s.map.outHeight, s.map.outWidth] : size), [height, width])
        if (forward.right.some((s) => s.kind === 'gather' && (s.map.ii === 0 || s.map.jj === -1))) turned++
        const length = planes * (vh ?? 0) * (vw ?? 0)
        const expected = new Float32Array(length + 1)
        await reference.augment(forward.right, src, expected, 1)
        for (const backend of js) {
          const got = new Float32Array(length + 1)
          await backend.augment(forward.right, src, got, 1)
          if (!closeTo(got, expected, 0)) throw new Error(`${backend.detail} disagrees on ${view.name} (${height}x${width})`)
        }
        const undo = resolveUndoMask(view.steps, height, width)
        if (E.isLeft(undo)) continue // crops cannot undo masks
        const mask = { data: fill(length, seed, true), offset: 0, planes, height: vh ?? 0, width: vw ?? 0 }
        const start = (): Float64Array => new Float64Array(planes * height * width).fill(0.5)
        const want = start()
        const refused = await reference.reduce(undo.right, mask, want, write)
        for (const backend of js) {
          const got = start()
          const theirs = await backend.reduce(undo.right, mask, got, write)
          if (theirs !== refused || !closeTo(got, want, 0)) throw new Error(`${backend.detail} disagrees reducing ${write} on ${view.name} (${height}x${width})`)
        }
      }
    }), { numRuns: 80 })
    // Not a vacuous property: most cases contain a quarter turn or a mirror (the WebAssembly paths).
    expect(turned).toBeGreaterThan(40)
  })

  it('large planes go through WebAssembly in bands of rows (16 rows here, and a shorter last band): every d4 view of a 2×600×520 image, and its undo into a max', async () => {
    const [planes, height, width] = [2, 600, 520]
    const src = { data: fill(planes * height * width, 7), offset: 0, planes, height, width }
    for (const view of views(aliases.d4())) {
      const forward = E.getOrElseW(() => [])(resolveAugment(view.steps, height, width))
      const expected = new Float32Array(src.data.length)
      const got = new Float32Array(src.data.length)
      await reference.augment(forward, src, expected, 0)
      jsBackend().augment(forward, src, got, 0)
      expect(firstDifference(got, expected), view.name).toBe(-1)
      const turned = { ...src, data: expected, height: forward.some((s) => s.kind === 'gather' && s.map.ii === 0) ? width : height, width: forward.some((s) => s.kind === 'gather' && s.map.ii === 0) ? height : width }
      const undo = E.getOrElseW(() => [])(resolveUndoMask(view.steps, height, width))
      const [want, back] = [new Float64Array(src.data.length).fill(-Infinity), new Float64Array(src.data.length).fill(-Infinity)]
      expect(jsBackend().reduce(undo, turned, back, 'max')).toBe(await reference.reduce(undo, turned, want, 'max'))
      expect(firstDifference(back, want), view.name).toBe(-1)
    }
  })

  // The chunk path (`batch`): the plan interpreter's way in. One source per chunk, every view of
  // the product written at its own offset of one input held in WebAssembly memory.
  const batchAgrees = async (factors: readonly AnyFactor[], planes: number, height: number, width: number, seed: number, tol: number, expectedBy: Backend = reference): Promise<number> => {
    const src = { data: fill(planes * height * width, seed), offset: 0, planes, height, width }
    const wanted: { readonly name: string; readonly stages: readonly Stage[]; readonly at: number; readonly values: Float32Array }[] = []
    let length = 3 // an offset before the first view, as the interpreter's slots have
    for (const view of views(product(...factors))) {
      const stages = resolveAugment(view.steps, height, width)
      if (E.isLeft(stages)) continue // a crop larger than the image
      const [vh, vw] = stages.right.reduce<readonly number[]>((size, s) => (s.kind === 'gather' ? [s.map.outHeight, s.map.outWidth] : s.kind === 'pointwise' ? size : [s.outHeight, s.outWidth]), [height, width])
      const values = new Float32Array(planes * (vh ?? 0) * (vw ?? 0))
      await expectedBy.augment(stages.right, src, values, 0)
      wanted.push({ name: view.name, stages: stages.right, at: length, values })
      length += values.length
    }
    const js = jsBackend()
    const batch = js.batch?.({ length, sourceLength: src.data.length, maxBytes: 2 ** 26 })
    if (batch === undefined) throw new Error(`no batch from ${js.detail}`)
    const [buffer, bytes] = [batch.data.buffer, batch.data.buffer.byteLength]
    batch.source(src)
    for (const w of wanted) {
      await batch.augment(w.stages, w.at)
      // The scratch memory of the other direction grows meanwhile: the batch is a memory of its own.
      js.reduce(w.stages, src, new Float64Array(planes * height * width + 2 * w.values.length), 'add')
    }
    expect(batch.data.buffer).toBe(buffer)
    expect(batch.data.buffer.byteLength).toBe(bytes) // never grown, never detached
    expect(batch.data.length).toBe(length)
    for (const w of wanted) {
      if (!closeTo(batch.data.subarray(w.at, w.at + w.values.length), w.values, tol)) throw new Error(`the batch disagrees on ${w.name} (${planes}×${height}x${width})`)
    }
    return wanted.length
  }

  it('a batch held in WebAssembly memory (the interpreter\'s path) agrees with the reference on every view of random products', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ factors, planes, height, width, seed }) => {
      await batchAgrees(factors, planes, height, width, seed, 2e-6)
    }), { numRuns: 60 })
  })

  it('a batch agrees exactly on turns, mirrors, flips, crops and scales of planes up to 40×40', async () => {
    let written = 0
    await fc.assert(fc.asyncProperty(turnCaseArb, async ({ factors, planes, height, width, seed }) => {
      written += await batchAgrees(factors, planes, height, width, seed, 0)
    }), { numRuns: 80 })
    expect(written).toBeGreaterThan(80)
  })

  // Views that share a resample (a multiscale product times flips, turns or crops): the later ones
  // move the earlier view's values instead of resampling again, and must write exactly its values.
  const sharedResampleArb = fc.record({
    factors: fc.tuple(
      fc.oneof(
        fc.tuple(fc.subarray([0.5, 1.5, 2, 0.75], { minLength: 1 }), fc.constantFrom(...modes), fc.boolean()).map(([k, interpolation, align]) =>
          E.getOrElseW(() => T.hflip())(T.scale(k, { interpolation, alignCorners: align && (interpolation === 'bilinear' || interpolation === 'bicubic') }))),
        fc.tuple(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 30 }), fc.constantFrom(...modes)).map(([h, w, interpolation]) =>
          E.getOrElseW(() => T.hflip())(T.resize([[h, w]], { interpolation }))),
      ),
      fc.oneof(
        fc.constant(T.hflip()),
        fc.constant(T.vflip()),
        fc.constant(E.getOrElseW(() => T.hflip())(T.rotate90([90, 180, 270]))),
        fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 12 })).map(([h, w]) => E.getOrElseW(() => T.hflip())(T.fiveCrops(h, w))),
      ),
    ),
    planes: fc.integer({ min: 1, max: 3 }),
    height: fc.integer({ min: 1, max: 40 }),
    width: fc.integer({ min: 1, max: 40 }),
    seed: fc.integer({ min: 1, max: 1000 }),
  })

  it('a flip, turn or crop after a resample moves the resampled view the batch holds: exactly the values of resampling again', async () => {
    let written = 0
    // Exactly the values of the same kernels run view by view (area averages by taps of 1/count,
    // where the reference divides sums: those differ from it in the last bit, within 2e-6).
    const separately = jsBackend({ wasm: false })
    await fc.assert(fc.asyncProperty(sharedResampleArb, async ({ factors, planes, height, width, seed }) => {
      written += await batchAgrees(factors, planes, height, width, seed, 0, separately)
      // And the reference's own values (its per-pixel sums in the same order), but for area.
      const area = factors[0].options.some((o) => o.steps.some((step) => step.op === 'resample' && step.mode === 'area'))
      await batchAgrees(factors, planes, height, width, seed, area ? 2e-6 : 0)
    }), { numRuns: 80 })
    expect(written).toBeGreaterThan(160)
  })

  it('large resamples in the batch (WebAssembly, through a row cache) equal the JavaScript kernels exactly, scaled and shifted too', async () => {
    const separately = jsBackend({ wasm: false })
    const cases: readonly (readonly AnyFactor[])[] = [
      [orThrow(T.scale([1.5, 0.75], { interpolation: 'bilinear' })), orThrow(T.multiply([0.5]))],
      [orThrow(T.scale([1.5], { interpolation: 'bicubic' })), T.hflip()],
      [T.hflip(), orThrow(T.resize([[301, 263]], { interpolation: 'bilinear' })), orThrow(T.fiveCrops(290, 250))],
      [orThrow(T.scale([2], { interpolation: 'bilinear', alignCorners: true })), orThrow(T.add([0.25]))],
    ]
    let written = 0
    for (const factors of cases) written += await batchAgrees(factors, 3, 203, 157, 3, 0, separately)
    expect(written).toBeGreaterThan(12)
  })

  it('without room for a resample\'s tables (a budget that leaves just the input and the source) the batch resamples in JavaScript: the same values', async () => {
    const [planes, height, width] = [3, 120, 90]
    const src = { data: fill(planes * height * width, 13), offset: 0, planes, height, width }
    const [, scaled = []] = views(product(orThrow(T.scale([1.5], { interpolation: 'bilinear' })))).map((v) => E.getOrElseW(() => [])(resolveAugment(v.steps, height, width)))
    const length = planes * 180 * 135
    const want = new Float32Array(length)
    await jsBackend({ wasm: false }).augment(scaled, src, want, 0)
    const exact = Math.ceil((4 * (Math.ceil(length / 4) * 4 + src.data.length)) / 65536) * 65536
    for (const maxBytes of [exact, 2 ** 26]) {
      const batch = jsBackend().batch?.({ length, sourceLength: src.data.length, maxBytes })
      if (batch === undefined) throw new Error('no batch')
      expect(batch.data.buffer.byteLength).toBe(maxBytes === exact ? exact : exact + 4 * 65536)
      batch.source(src)
      await batch.augment(scaled, 0)
      expect(firstDifference(batch.data, want)).toBe(-1)
      batch.release?.()
    }
  })

  it('a view after a resample does not read the resampled view once it is written over', async () => {
    const [planes, height, width] = [2, 12, 20]
    const src = { data: fill(planes * height * width, 7), offset: 0, planes, height, width }
    // The product's views: identity, HorizontalFlip, Scale(1.5), Scale(1.5) · HorizontalFlip.
    const [, , scaled = [], flipped = []] = views(product(orThrow(T.scale([1.5], { interpolation: 'bilinear' })), T.hflip())).map((v) => E.getOrElseW(() => [])(resolveAugment(v.steps, height, width)))
    expect([scaled, flipped].map((stages) => stages.map((stage) => stage.kind).join())).toEqual(['resample', 'resample,gather'])
    const per = planes * 18 * 30
    const want = async (stages: readonly Stage[]): Promise<Float32Array> => {
      const out = new Float32Array(per)
      await reference.augment(stages, src, out, 0)
      return out
    }
    const batch = jsBackend().batch?.({ length: 2 * per, sourceLength: src.data.length, maxBytes: 2 ** 24 })
    if (batch === undefined) throw new Error('no batch')
    batch.source(src)
    batch.augment(scaled, 0)
    batch.augment(flipped, per) // moved from slot 0
    expect(firstDifference(batch.data.subarray(per), await want(flipped))).toBe(-1)
    batch.augment(flipped, 0) // slot 0 now holds the flipped view
    batch.augment(flipped, per) // must resample again, not flip slot 0 back
    expect(firstDifference(batch.data.subarray(0, per), await want(flipped))).toBe(-1)
    expect(firstDifference(batch.data.subarray(per), await want(flipped))).toBe(-1)
    // A new chunk's source: the last chunk's resampled view is not read.
    const other = { ...src, data: fill(src.data.length, 11) }
    batch.source(other)
    batch.augment(flipped, per)
    const again = new Float32Array(per)
    await reference.augment(flipped, other, again, 0)
    expect(firstDifference(batch.data.subarray(per), again)).toBe(-1)
  })

  it('a batch reads its turns from the identity view it holds, and not once that view is written over', async () => {
    const [planes, height, width] = [2, 20, 36]
    const src = { data: fill(planes * height * width, 5), offset: 0, planes, height, width }
    const d4 = views(aliases.d4()).map((v) => E.getOrElseW(() => [])(resolveAugment(v.steps, height, width)))
    const [identity = [], turn = [], , , flip = []] = d4
    const per = src.data.length
    const want = async (stages: readonly Stage[]): Promise<Float32Array> => {
      const out = new Float32Array(per)
      await reference.augment(stages, src, out, 0)
      return out
    }
    const batch = jsBackend().batch?.({ length: 3 * per, sourceLength: per, maxBytes: 2 ** 24 })
    if (batch === undefined) throw new Error('no batch')
    batch.source(src)
    batch.augment(identity, 0)
    batch.augment(turn, per) // read from slot 0
    batch.augment(flip, 0) // slot 0 is no longer the source
    batch.augment(turn, 2 * per) // must read the source again, not the flipped slot
    expect(firstDifference(batch.data.subarray(0, per), await want(flip))).toBe(-1)
    expect(firstDifference(batch.data.subarray(per, 2 * per), await want(turn))).toBe(-1)
    expect(firstDifference(batch.data.subarray(2 * per), await want(turn))).toBe(-1)
    // A new chunk's source: nothing of the last chunk's is read.
    const other = { ...src, data: fill(per, 9) }
    batch.source(other)
    batch.augment(turn, per)
    const turned = new Float32Array(per)
    await reference.augment(turn, other, turned, 0)
    expect(firstDifference(batch.data.subarray(per, 2 * per), turned)).toBe(-1)
  })

  it('a batch is made at its final size within maxBytes, or not at all; none without WebAssembly SIMD', () => {
    const js = jsBackend()
    const [length, sourceLength] = [8 * 3 * 64 * 64, 3 * 64 * 64]
    const need = Math.ceil((4 * (length + sourceLength)) / 65536) * 65536
    const fits = js.batch?.({ length, sourceLength, maxBytes: need })
    expect(fits?.data.length).toBe(length)
    expect(fits?.data.buffer.byteLength).toBeLessThanOrEqual(need)
    expect(js.batch?.({ length, sourceLength, maxBytes: need - 1 })).toBeUndefined()
    expect(js.batch?.({ length, sourceLength, maxBytes: Number.NaN })).toBeUndefined()
    expect(js.batch?.({ length: 2 ** 31, sourceLength, maxBytes: 2 ** 40 })).toBeUndefined() // past a 32-bit memory
    expect(jsBackend({ wasm: false }).batch).toBeUndefined()
    expect(referenceBackend().batch).toBeUndefined()
  })

  it('refuses the values a merge cannot take, at the same index as the reference', async () => {
    const view = views(product(T.hflip()))[1]
    const undo = E.getOrElseW(() => [])(resolveUndoMask(view?.steps ?? [], 2, 3))
    const mask = { data: Float32Array.of(1, 2, -3, 4, Number.NaN, 6), offset: 0, planes: 1, height: 2, width: 3 }
    for (const backend of [reference, ...backends]) {
      expect(await backend.reduce(undo, mask, new Float64Array(6), 'add-log'), backend.detail).toBe(0) // -3 lands at column 0 after the flip
      expect(await backend.reduce(undo, mask, new Float64Array(6), 'add'), backend.detail).toBe(4)
    }
  })
})
