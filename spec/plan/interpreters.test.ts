/**
 * One plan, many interpreters: the dry run predicts exactly the shapes the real run produces, and
 * the real run gives the same answer on every backend.
 */
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { aliases, buildPlan, dryRun, explain, jsBackend, orThrow, product, referenceBackend, runPlan, transforms as T, views, type AnyFactor, type Backend, type BatchRequest, type RawTensor, type Task } from '../../src/index.js'

const factorArb: fc.Arbitrary<AnyFactor> = fc.oneof(
  fc.constant(T.hflip()),
  fc.constant(T.vflip()),
  fc.constantFrom(orThrow(T.rotate90([90, 180, 270]))),
  fc.constantFrom(orThrow(T.scale([0.5, 2], { interpolation: 'bilinear' })), orThrow(T.scale([1.5], { interpolation: 'area' }))),
  fc.constantFrom(orThrow(T.resize([[5, 7], [4, 4]], { interpolation: 'nearest' }))),
  fc.constantFrom(orThrow(T.multiply([0.5, 2])), orThrow(T.add([0.25]))),
)

const caseArb = fc.record({
  task: fc.constantFrom<Task>('segmentation', 'classification'),
  factors: fc.array(factorArb, { minLength: 1, maxLength: 3 }),
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 3 }),
  h: fc.integer({ min: 3, max: 8 }),
  w: fc.integer({ min: 3, max: 8 }),
  k: fc.integer({ min: 1, max: 3 }),
  budget: fc.option(fc.integer({ min: 20_000, max: 200_000 }), { nil: undefined }),
})

/** A model that depends on every input pixel: per batch item, K channels of running sums. */
const fakeModel = (task: Task, k: number) => async (input: RawTensor): Promise<E.Either<never, RawTensor>> => {
  const [b = 1, c = 1, h = 1, w = 1] = input.shape
  const plane = h * w
  if (task === 'classification') {
    const out = new Float32Array(b * k)
    for (let i = 0; i < b; i++) for (let j = 0; j < k; j++) out[i * k + j] = input.data.subarray(i * c * plane, (i + 1) * c * plane).reduce((a, v) => a + v * (j + 1), 0) / (c * plane)
    return E.right({ shape: [b, k], data: out })
  }
  const out = new Float32Array(b * k * plane)
  for (let i = 0; i < b; i++) for (let j = 0; j < k; j++) for (let p = 0; p < plane; p++) out[(i * k + j) * plane + p] = (input.data[(i * c + (j % c)) * plane + p] ?? 0) * (j + 1) + p / plane
  return E.right({ shape: [b, k, h, w], data: out })
}

describe('plan interpreters agree', () => {
  it('dry-run shapes equal run shapes, for every call and the result', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async ({ task, factors, n, c, h, w, k, budget }) => {
      const image = { shape: [n, c, h, w], data: Float32Array.from({ length: n * c * h * w }, (_, i) => (i % 7) / 7) }
      const plan = buildPlan(task, views(product(...factors)), image.shape, { merge: 'mean', ...(budget === undefined ? {} : { budget }) })
      if (E.isLeft(plan)) {
        expect(plan.left.message).toMatch(/too small for one view|gives an empty/)
        return
      }
      const signature = task === 'segmentation' ? { input: ['N', c, 'H', 'W'], output: ['N', k, 'H', 'W'] } : { input: ['N', c, 'H', 'W'], output: ['N', k] }
      const predicted = orThrow(dryRun(plan.right, signature))
      const calls: { input: readonly number[]; output: readonly number[] }[] = []
      const model = fakeModel(task, k)
      const result = orThrow(await runPlan(plan.right, image, {
        backend: jsBackend(),
        callModel: async (input) => E.Functor.map(await model(input), (out) => { calls.push({ input: input.shape, output: out.shape }); return out }),
      }))
      expect(calls.map((call) => call.input)).toEqual(predicted.calls.map((call) => call.input))
      expect(calls.map((call) => call.output)).toEqual(predicted.calls.map((call) => call.output))
      expect(result.shape).toEqual(predicted.result)
    }), { numRuns: 200 })
  })

  it('the same plan gives the same answer on the reference and js backends', async () => {
    await fc.assert(fc.asyncProperty(caseArb, fc.constantFrom('mean', 'max', 'gmean', 'vote' as const), async ({ task, factors, n, c, h, w, k }, merge) => {
      const image = { shape: [n, c, h, w], data: Float32Array.from({ length: n * c * h * w }, (_, i) => ((i * 5) % 11) / 11) }
      const built = buildPlan(task, views(product(...factors)), image.shape, { merge })
      fc.pre(E.isRight(built)) // a resample to an empty image is refused, tested elsewhere
      const plan = orThrow(built)
      const model = fakeModel(task, k)
      const positive = async (input: RawTensor) => E.Functor.map(await model(input), (out) => ({ ...out, data: out.data.map((v) => Math.abs(v) + 0.01) }))
      const a = orThrow(await runPlan(plan, image, { backend: referenceBackend(), callModel: positive }))
      const b = orThrow(await runPlan(plan, image, { backend: jsBackend(), callModel: positive }))
      expect(b.shape).toEqual(a.shape)
      b.data.forEach((v, i) => expect(Math.abs(v - (a.data[i] ?? Number.NaN))).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(v))))
    }), { numRuns: 200 })
  })

  it('a backend\'s own model input: asked for within what the budget leaves, its source named once per chunk, handed to the model; a plain array when it declines; a malformed one is a typed error', async () => {
    const image = { shape: [1, 2, 8, 6], data: Float32Array.from({ length: 96 }, (_, i) => ((i * 7) % 13) / 13) }
    const model = fakeModel('segmentation', 2)
    const js = jsBackend()
    const watched = () => {
      const seen = { requests: [] as BatchRequest[], sources: 0, released: 0, given: [] as Float32Array[], fed: [] as Float32Array[] }
      const backend: Backend = {
        ...js,
        batch: (request) => {
          seen.requests.push(request)
          const held = js.batch?.(request)
          if (held === undefined) return undefined
          seen.given.push(held.data)
          return { data: held.data, source: (src) => { seen.sources++; held.source(src) }, augment: held.augment, release: () => { seen.released++; held.release?.() } }
        },
      }
      return { seen, backend, callModel: async (input: RawTensor) => { seen.fed.push(input.data); return model(input) } }
    }
    for (const budget of [undefined, 20_000]) {
      // A non-square image: d4 makes two chunks (8×6 views and 6×8 views).
      const plan = orThrow(buildPlan('segmentation', views(aliases.d4()), image.shape, { merge: 'mean', ...(budget === undefined ? {} : { budget }) }))
      const want = orThrow(await runPlan(plan, image, { backend: referenceBackend(), callModel: model }))
      const { seen, backend, callModel } = watched()
      const got = orThrow(await runPlan(plan, image, { backend, callModel }))
      expect(Array.from(got.data)).toEqual(Array.from(want.data))
      const room = (plan.memory.budget ?? 0) - plan.memory.peak + plan.memory.chunkInput
      expect(seen.requests.map((r) => r.maxBytes)).toEqual(seen.requests.map(() => room))
      expect(seen.requests.every((r) => r.sourceLength === 96)).toBe(true)
      if (budget === undefined) {
        // Room to spare: every chunk's input is the backend's, fed to the model as it is.
        expect(seen.given.length).toBe(plan.chunks.length)
        expect(seen.sources).toBe(plan.chunks.length)
        expect(seen.fed.every((data) => seen.given.includes(data))).toBe(true)
        // Each handed back before the next was asked for, and the last when the run ended; the
        // second chunk's input (the same size) is the first's memory again, pages already touched.
        expect(seen.released).toBe(plan.chunks.length)
        expect(seen.given[1]?.buffer).toBe(seen.given[0]?.buffer)
      } else {
        // 20,000 bytes leave less than a WebAssembly page: the backend declines, the interpreter allocates.
        expect(room).toBeLessThan(65536)
        expect(seen.given).toEqual([])
        expect(seen.fed.length).toBe(plan.chunks.length)
      }
    }
    const plan = orThrow(buildPlan('segmentation', views(aliases.hflip()), image.shape, { merge: 'mean' }))
    // A run that fails still hands its input back; a later run gets the same memory.
    const { seen, backend } = watched()
    const failing = await runPlan(plan, image, { backend, callModel: async () => E.right({ shape: [1], data: Float32Array.of(0) }) })
    expect(E.isLeft(failing)).toBe(true)
    expect(seen.released).toBe(1)
    const again = watched()
    orThrow(await runPlan(plan, image, { backend: again.backend, callModel: model }))
    expect(again.seen.given[0]?.buffer).toBe(seen.given[0]?.buffer)
    const malformed: Backend = { ...js, batch: () => ({ data: new Float32Array(1), source: () => undefined, augment: () => undefined }) }
    const refused = await runPlan(plan, image, { backend: malformed, callModel: model })
    expect(E.isLeft(refused) && refused.left.message).toBe('backend.batch must return undefined or { data: a Float32Array of 192 values, source, augment } for the model input [2,2,8,6]')
  })

  it('a view fed to the model is finite: checked after augmenting, except views that only move and average pixels on the float64 backends', async () => {
    const model = fakeModel('segmentation', 1)
    const fedError = (r: E.Either<{ readonly _tag: string; readonly message: string }, unknown>): string => (E.isLeft(r) ? `${r.left._tag}: ${r.left.message}` : 'no error')
    // A step of float32's largest values: bicubic's overshoot past the step goes beyond the float32 range.
    const big = 3.4e38
    const step = { shape: [1, 1, 6, 6], data: Float32Array.from({ length: 36 }, (_, i) => (i % 6 < 3 ? 0 : big)) }
    const bicubic = orThrow(buildPlan('segmentation', views(product(orThrow(T.scale([2], { interpolation: 'bicubic' })))), step.shape, { merge: 'mean' }))
    for (const backend of [jsBackend(), referenceBackend()]) {
      expect(fedError(await runPlan(bicubic, step, { backend, callModel: model }))).toMatch(/^NonFiniteError: view 'Scale\(2\)' has (-)?Infinity at index \d+ after augmentation \(what the model would be fed\)$/)
    }
    // The same step through bilinear and area scales and flips stays in range: no error, on both.
    const averaging = orThrow(buildPlan('segmentation', views(product(orThrow(T.scale([2, 0.5], { interpolation: 'bilinear' })), T.hflip())), step.shape, { merge: 'max' }))
    for (const backend of [jsBackend(), referenceBackend()]) expect(fedError(await runPlan(averaging, step, { backend, callModel: model }))).toBe('no error')
    // A backend of the caller's (here one that writes NaN into every view) is always checked.
    const js = jsBackend()
    const broken: Backend = {
      name: 'js', detail: 'writes NaN', reduce: js.reduce,
      augment: async (stages, src, dst, at) => { await js.augment(stages, src, dst, at); dst[at + 1] = Number.NaN },
    }
    const image = { shape: [1, 1, 4, 4], data: Float32Array.from({ length: 16 }, (_, i) => i) }
    const flip = orThrow(buildPlan('segmentation', views(aliases.hflip()), image.shape, { merge: 'mean' }))
    expect(fedError(await runPlan(flip, image, { backend: broken, callModel: model }))).toBe("NonFiniteError: view 'identity' has NaN at index 1 after augmentation (what the model would be fed)")
    expect(fedError(await runPlan(flip, image, { backend: { ...js }, callModel: model }))).toBe('no error')
  })

  it('peak memory is flat in the number of views once a budget caps the chunk', () => {
    const [identityView, flipView] = views(aliases.hflip())
    const peakFor = (count: number): number => {
      const many = Array.from({ length: count }, (_, i) => (i % 2 === 0 ? identityView : flipView)).flatMap((v) => (v === undefined ? [] : [v]))
      return orThrow(buildPlan('segmentation', many, [1, 3, 64, 64], { merge: 'mean', budget: '1MiB' })).memory.peak
    }
    const peaks = [16, 32, 64, 128].map(peakFor)
    expect(new Set(peaks).size).toBe(1)
    expect(peakFor(2)).toBeLessThan(peaks[0] ?? 0)
    expect(peaks[0]).toBeLessThanOrEqual(2 ** 20)
  })

  it('explains a plan in words', () => {
    const plan = orThrow(buildPlan('segmentation', views(aliases.d4()), [1, 3, 512, 384], { merge: 'mean', budget: '64MiB' }))
    const text = explain(plan)
    expect(text).toMatch(/^8 views · 2 chunks \(4 \+ 4\) · segmentation of \[1,3,512,384\] · merge mean/)
    expect(text).toMatch(/chunk 0: model input \[4,3,512,384\] ← 4 views of 512x384/)
    expect(text).toMatch(/chunk 1: model input \[4,3,384,512\] ← 4 views of 384x512/)
    expect(text).toMatch(/Rotate90\(90\) \[iso\]: in: gather 512x384 → 384x512 reading \(j, -i \+ 383\) \| back\+merge: gather 384x512 → 512x384/)
    expect(text).toMatch(/peak ≈ \d+\.\d MiB \(budget 64\.0 MiB\)/)
  })
})
