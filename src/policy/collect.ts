/**
 * Filling the search's cache: every candidate view run once over the labelled set (through the
 * classification wrapper, so views are augmented exactly as a policy will run them), its outputs
 * kept in a {@link PredictionStore}. With a store that outlives the process (the CLI keeps one on
 * disk), an interrupted search rerun finds the views already computed and runs only the rest.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import { policyError, type TtaError } from '../errors.js'
import type { LabelledSet } from '../eval/classify.js'
import type { ScoreKind } from '../merge/spread.js'
import { assumeShape } from '../tensor/trusted.js'
import type { Shape } from '../tensor/shape.js'
import { classification } from '../wrapper/classification.js'
import type { ExecutionOptions } from '../wrapper/execute.js'
import type { ModelOutput } from '../wrapper/model.js'
import { cacheBytes, cachePredictions, type CachedPredictions } from './cached.js'
import { productOfViews, viewKey, viewName, type ViewOps } from './views.js'

/** Where per-view outputs are kept between runs, by key. @category model */
export interface PredictionStore {
  readonly read: (key: string) => Promise<Float32Array | undefined>
  readonly write: (key: string, values: Float32Array) => Promise<void>
}

/**
 * A store in memory, holding at most `maxBytes` (oldest entries dropped first).
 * @example
 * import { memoryStore } from 'tta-lens'
 * const store = memoryStore(16)
 * await store.write('a', Float32Array.of(1, 2))
 * await store.write('b', Float32Array.of(3, 4))
 * await store.write('c', Float32Array.of(5, 6))    // 24 bytes > 16: 'a' goes
 * assert.strictEqual(await store.read('a'), undefined)
 * assert.deepStrictEqual(Array.from((await store.read('c')) ?? []), [5, 6])
 * @category constructors
 */
export const memoryStore = (maxBytes = 1024 ** 3): PredictionStore => {
  const entries = new Map<string, Float32Array>()
  let bytes = 0
  return {
    read: async (key) => entries.get(key),
    write: async (key, values) => {
      const old = entries.get(key)
      if (old !== undefined) { bytes -= old.byteLength; entries.delete(key) }
      entries.set(key, values)
      bytes += values.byteLength
      for (const [k, v] of entries) {
        if (bytes <= maxBytes || k === key) break
        entries.delete(k)
        bytes -= v.byteLength
      }
    },
  }
}

/** FNV-1a (32-bit, twice with different seeds) over bytes: a cheap fingerprint, not a security hash. */
const fingerprint = (parts: readonly Uint8Array[]): string => {
  let a = 0x811c9dc5
  let b = 0x01000193 ^ 0x5bd1e995
  for (const bytes of parts) {
    for (let i = 0; i < bytes.length; i++) {
      const x = bytes[i] ?? 0
      a = Math.imul(a ^ x, 0x01000193)
      b = Math.imul(b ^ x, 0x01000193) ^ (b >>> 13)
    }
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0')
}

/** A labelled set's fingerprint (its pixels, labels and shape): part of every cache key. @category utils */
export const setFingerprint = (set: LabelledSet): string =>
  fingerprint([new TextEncoder().encode(set.shape.join('x')), new Uint8Array(set.images.buffer, set.images.byteOffset, set.images.byteLength), Uint8Array.from(Array.from({ length: set.labels.length }, (_, i) => set.labels[i] ?? 0))])

/** Options of {@link collectPredictions}. @category model */
export interface CollectOptions extends ExecutionOptions {
  /** What the model returns. Default `'logits'`. */
  readonly scores?: ScoreKind
  /** Keeps each view's outputs; a rerun with the same store, model key and set reuses them. Default: in memory. */
  readonly store?: PredictionStore
  /** Names the model in cache keys (a file's hash): outputs of another model are never reused. Default `'model'`. */
  readonly modelKey?: string
  /** Images per wrapper run. Default 1000. */
  readonly imagesPerRun?: number
  /** Most bytes the cache may take (default 1 GiB): a bigger search is refused before it starts. */
  readonly maxBytes?: number
  /** After each batch: (views done, views in all, the view, images done in it, images in all, whether it came from the store). */
  readonly onProgress?: (progress: { readonly view: number; readonly views: number; readonly name: string; readonly done: number; readonly total: number; readonly cached: boolean }) => void
}

/**
 * Runs every candidate view of `pool` over the set (or reads it from the store) and builds the
 * search's cache. A candidate that fails on some images — the model throws, or gives non-finite
 * values — is a `candidate` PolicyError naming the view and the first images.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { collectPredictions, memoryStore, orThrow, tensor, type LabelledSet, type Tensor } from 'tta-lens'
 * let calls = 0
 * const model = async (x: Tensor<readonly ['N', 1, 1, 2]>) => { calls++; return orThrow(tensor([x.shape[0], 2], x.data)) }
 * const set: LabelledSet = { shape: [2, 1, 1, 2], images: Float32Array.of(1, 0, 0, 1), labels: [0, 1] }
 * const store = memoryStore()
 * const cache = await collectPredictions(model, set, [[], [{ op: 'hflip' }]], { store })
 * assert.ok(E.isRight(cache) && cache.right.views[1]?.top.join() === '1,0')
 * await collectPredictions(model, set, [[], [{ op: 'hflip' }]], { store })
 * assert.strictEqual(calls, 2)     // the second run read both views from the store
 * @category evaluation
 */
export const collectPredictions = async (
  model: (batch: never, ...extra: never) => Promise<ModelOutput>,
  set: LabelledSet,
  pool: readonly ViewOps[],
  options: CollectOptions = {},
): Promise<E.Either<TtaError, CachedPredictions>> => {
  const { store = memoryStore(), modelKey = 'model', imagesPerRun = 1000, scores = 'logits', onProgress, maxBytes = 1024 ** 3, ...execution } = options
  const [n, c, h, w] = set.shape
  if (set.images.length !== n * c * h * w || set.labels.length !== n) {
    return E.left(policyError('selection', `a labelled set of [${set.shape.join(',')}] needs ${n * c * h * w} pixel values and ${n} labels, got ${set.images.length} and ${set.labels.length}`))
  }
  if (n < 1) return E.left(policyError('selection', 'the selection set is empty'))
  const dataKey = setFingerprint(set)
  const raws: Float32Array[] = []
  let classes = 0
  const tooBig = (): E.Either<TtaError, never> | undefined => cacheBytes(n, classes, pool.length) > maxBytes
    ? E.left(policyError('selection', `caching ${pool.length} views of ${n} items × ${classes} classes needs ${cacheBytes(n, classes, pool.length)} bytes, over the limit of ${maxBytes}: use fewer items or candidates, or raise maxBytes`))
    : undefined
  for (const [v, ops] of pool.entries()) {
    const name = viewName(ops)
    const key = `${modelKey}|${dataKey}|${viewKey(ops)}`
    const stored = await store.read(key)
    if (stored !== undefined && stored.length % n === 0 && stored.length > 0) {
      raws.push(stored)
      classes = stored.length / n
      const big = tooBig()
      if (big !== undefined) return big
      onProgress?.({ view: v, views: pool.length, name, done: n, total: n, cached: true })
      continue
    }
    const product = productOfViews([ops], h, w)
    if (E.isLeft(product)) return E.left(policyError('candidate', product.left.message))
    const tta = classification(model, product.right, { ...execution, merge: 'sum' })
    const chunks: Float32Array[] = []
    for (let start = 0; start < n; start += imagesPerRun) {
      const count = Math.min(imagesPerRun, n - start)
      const images = assumeShape<Shape>([count, c, h, w], set.images.subarray(start * c * h * w, (start + count) * c * h * w))
      const out = await tta.run(images)()
      if (E.isLeft(out)) {
        // Find the images this view fails on, one at a time, to name them.
        const failing: number[] = []
        for (let i = start; i < start + count && failing.length < 5; i++) {
          const one = await tta.run(assumeShape<Shape>([1, c, h, w], set.images.subarray(i * c * h * w, (i + 1) * c * h * w)))()
          if (E.isLeft(one)) failing.push(i)
        }
        const which = failing.length === 0 ? `images ${start}–${start + count - 1} together` : `image${failing.length === 1 ? '' : 's'} ${failing.join(', ')}${failing.length === 5 ? ' and maybe more' : ''}`
        return E.left(policyError('candidate', `candidate '${name}' fails on ${which}: ${out.left._tag}: ${out.left.message}`))
      }
      chunks.push(out.right.data)
      onProgress?.({ view: v, views: pool.length, name, done: start + count, total: n, cached: false })
    }
    const all = new Float32Array(chunks.reduce((a, x) => a + x.length, 0))
    let at = 0
    for (const chunk of chunks) { all.set(chunk, at); at += chunk.length }
    classes = all.length / n
    const big = tooBig()
    if (big !== undefined) return big
    await store.write(key, all)
    raws.push(all)
  }
  return cachePredictions(raws, classes, scores, pool.map(viewName))
}
