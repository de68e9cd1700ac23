/**
 * Evaluation in shards: a labelled set loaded the same way everywhere (IDX files or class folders),
 * the counts of one range of its images under every policy, and the merge of those counts into the
 * table a single-process `eval` prints. Fixed and broken are counted per image against the first
 * policy, so they add up across shards, and accuracy and McNemar's test follow from the sums: the
 * merged table is the single-process table. Node-only.
 *
 * @since 0.5.0
 */
import { readdir } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { paramError, type TtaError } from '../errors.js'
import { parsePolicy } from '../config/transforms.js'
import type { AnyFactor, Product } from '../algebra/product.js'
import { evaluateClassifier, type LabelledSet } from '../eval/classify.js'
import { mcnemar } from '../eval/stats.js'
import { readIdx } from '../io/idx.js'
import { collectInputs } from '../io/files.js'
import { readImage, type Preprocess } from '../io/image.js'
import type { ExecutionOptions } from '../wrapper/execute.js'
import type { MergeMode } from '../merge/merge.js'
import type { ModelOutput } from '../wrapper/model.js'
import type { EvalSpec } from './spec.js'

/** Image extensions a class folder's images may have. @category utils */
export const imageExtensions: readonly string[] = ['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.bmp', '.avif']

/**
 * Where a labelled set comes from: IDX images and labels (pixels scaled to 0..1), optionally only
 * the images at `indices` in that order (one half of a `--split`), or one folder per class.
 * @category model
 */
export type SetSource =
  | { readonly idx: readonly [string, string]; readonly indices?: readonly number[]; readonly limit?: number }
  | { readonly folder: string; readonly limit?: number }

/**
 * Loads a labelled set. A folder's unreadable images are skipped (each reported to `onSkip`); a
 * folder without classes or readable images, or images of different sizes, is an error whose
 * message says what to do.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { assetPath } from 'tta-lens/node'
 * import { loadLabelledSet } from 'tta-lens/queue'
 * const set = await loadLabelledSet({ idx: [assetPath('fashion-mnist/t10k-images-idx3-ubyte.gz'), assetPath('fashion-mnist/t10k-labels-idx1-ubyte.gz')], limit: 10 }, { channels: 1 })
 * assert.ok(E.isRight(set) && set.right.shape.join() === '10,1,28,28' && set.right.labels[0] === 9)
 * const picked = await loadLabelledSet({ idx: [assetPath('fashion-mnist/t10k-images-idx3-ubyte.gz'), assetPath('fashion-mnist/t10k-labels-idx1-ubyte.gz')], indices: [3, 0] }, { channels: 1 })
 * assert.ok(E.isRight(picked) && E.isRight(set) && picked.right.labels[1] === 9 && picked.right.images[784 + 300] === set.right.images[300])
 * const outside = await loadLabelledSet({ idx: [assetPath('fashion-mnist/t10k-images-idx3-ubyte.gz'), assetPath('fashion-mnist/t10k-labels-idx1-ubyte.gz')], indices: [10000] }, { channels: 1 })
 * assert.ok(E.isLeft(outside) && outside.left.includes('10000'))
 * @category constructors
 */
export const loadLabelledSet = async (source: SetSource, preprocess: Preprocess, onSkip: (message: string) => void = () => undefined, cwd?: string): Promise<E.Either<string, LabelledSet>> => {
  const at = (p: string): string => (cwd === undefined ? p : resolve(cwd, p))
  if ('idx' in source) {
    const [imagesPath, labelsPath] = source.idx
    const images = await readIdx(at(imagesPath))
    if (E.isLeft(images)) return E.left(`${images.left._tag}: ${images.left.message}`)
    const labels = await readIdx(at(labelsPath))
    if (E.isLeft(labels)) return E.left(`${labels.left._tag}: ${labels.left.message}`)
    const [count = 0, h = 0, w = 0] = images.right.shape
    if (labels.right.data.length !== count) return E.left(`${imagesPath} holds ${count} images but ${labelsPath} ${labels.right.data.length} labels`)
    if (source.indices === undefined) {
      const n = Math.min(count, source.limit ?? count)
      return E.right({ shape: [n, 1, h, w], images: Float32Array.from(images.right.data.subarray(0, n * h * w), (v) => v / 255), labels: labels.right.data.subarray(0, n) })
    }
    const chosen = source.indices.slice(0, source.limit ?? source.indices.length)
    const wrong = chosen.find((i) => !Number.isInteger(i) || i < 0 || i >= count)
    if (wrong !== undefined) return E.left(`image index ${wrong} is not in ${imagesPath} (${count} images)`)
    const per = h * w
    const pixels = new Float32Array(chosen.length * per)
    const picked = new Uint8Array(chosen.length)
    for (const [k, i] of chosen.entries()) {
      const from = images.right.data.subarray(i * per, (i + 1) * per)
      for (let p = 0; p < per; p++) pixels[k * per + p] = (from[p] ?? 0) / 255
      picked[k] = labels.right.data[i] ?? 0
    }
    return E.right({ shape: [chosen.length, 1, h, w], images: pixels, labels: picked })
  }
  const folder = source.folder
  let classes: string[]
  try {
    classes = (await readdir(at(folder), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort()
  } catch (e) {
    return E.left(`cannot read the --folder ${folder}: ${e instanceof Error ? e.message : String(e)}`)
  }
  if (classes.length === 0) return E.left(`--folder ${folder} has no class sub-folders (one folder of images per class)`)
  const tensors: Float32Array[] = []
  const labels: number[] = []
  let shape: readonly number[] = []
  for (const [label, name] of classes.entries()) {
    const { files } = await collectInputs([join(folder, name)], { extensions: imageExtensions })
    for (const file of files.slice(0, source.limit)) {
      const image = await readImage(at(file), preprocess)
      if (E.isLeft(image)) { onSkip(image.left.message); continue }
      if (shape.length > 0 && image.right.tensor.shape.some((d, i) => d !== shape[i])) return E.left(`${file} is ${image.right.tensor.shape.join('x')} but earlier images are ${shape.join('x')}: pass --size`)
      shape = image.right.tensor.shape
      tensors.push(image.right.tensor.data)
      labels.push(label)
    }
  }
  if (tensors.length === 0) return E.left(`--folder ${folder} has no readable images in its class sub-folders (${classes.join(', ')})`)
  const [, c = 0, h = 0, w = 0] = shape
  const images = new Float32Array(tensors.length * c * h * w)
  tensors.forEach((t, i) => images.set(t, i * t.length))
  return E.right({ shape: [tensors.length, c, h, w], images, labels: Uint8Array.from(labels) })
}

/** One policy's counts on one shard of a labelled set. @category model */
export interface PolicyCounts {
  readonly policy: string
  readonly views: number
  readonly correct: number
  readonly total: number
  /** Wrong under the first policy, right under this one. */
  readonly fixed: number
  /** Right under the first policy, wrong under this one. */
  readonly broken: number
  /** Milliseconds spent on this policy's images. */
  readonly ms: number
}

/** One row of the merged table, as `eval` prints it. @category model */
export interface PolicyRow extends PolicyCounts {
  readonly accuracy: number
  readonly p: number
  readonly msPerImage: number
}

/**
 * Counts of images `[start, end)` of a set under every policy (the first is the baseline of fixed
 * and broken), from the same `evaluateClassifier` as a single-process run.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { orThrow, tensor, type Tensor } from 'tta-lens'
 * import { evaluateShard } from 'tta-lens/queue'
 * const model = async (x: Tensor<readonly ['N', 1, 1, 2]>) => orThrow(tensor([x.shape[0], 2], x.data))
 * const set = { shape: [2, 1, 1, 2] as const, images: Float32Array.of(1, 0, 0, 1), labels: [0, 1] }
 * const counts = await evaluateShard(model, set, ['none', 'hflip'], 1, 2)
 * assert.ok(E.isRight(counts))
 * assert.deepStrictEqual(counts.right.map((c) => [c.policy, c.correct, c.total, c.broken]), [['none', 1, 1, 0], ['hflip', 0, 1, 1]])
 * @category evaluation
 */
export const evaluateShard = async (
  model: (batch: never, ...extra: never) => Promise<ModelOutput>,
  set: LabelledSet,
  policies: readonly string[],
  start: number,
  end: number,
  options: ExecutionOptions & { readonly merge?: MergeMode; readonly imagesPerRun?: number } = {},
): Promise<E.Either<TtaError, readonly PolicyCounts[]>> => {
  const [n, c, h, w] = set.shape
  if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end > n || start >= end) {
    return E.left(paramError(`a shard is images [start, end) of the set's ${n}, got [${start}, ${end})`))
  }
  const parsed: { name: string; product: Product<readonly AnyFactor[]> }[] = []
  for (const name of policies) {
    const product = parsePolicy(name)
    if (E.isLeft(product)) return product
    parsed.push({ name, product: product.right })
  }
  const size = c * h * w
  const shard: LabelledSet = {
    shape: [end - start, c, h, w],
    images: set.images.subarray(start * size, end * size),
    labels: Array.from({ length: end - start }, (_, i) => Number(set.labels[start + i] ?? 0)),
  }
  const results = await evaluateClassifier(model, shard, parsed, options)
  if (E.isLeft(results)) return results
  return E.right(results.right.map((r) => ({
    policy: r.policy, views: r.views, correct: r.correct, total: r.total, fixed: r.fixed, broken: r.broken, ms: r.msPerImage * r.total,
  })))
}

/**
 * Adds the counts of shards into the table of a single-process run: accuracy from the summed
 * correct answers, McNemar's exact test from the summed fixed and broken, time per image from the
 * summed time. Every shard must list the same policies in the same order.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mergeShardCounts } from 'tta-lens/queue'
 * const shard = (correct: number, fixed: number, broken: number) => [
 *   { policy: 'none', views: 1, correct: 5, total: 10, fixed: 0, broken: 0, ms: 10 },
 *   { policy: 'hflip', views: 2, correct, total: 10, fixed, broken, ms: 20 },
 * ]
 * const rows = mergeShardCounts([shard(7, 3, 1), shard(6, 2, 1)])
 * assert.ok(E.isRight(rows))
 * const [none, hflip] = rows.right
 * assert.deepStrictEqual([none?.accuracy, hflip?.accuracy, hflip?.fixed, hflip?.broken, hflip?.msPerImage], [0.5, 0.65, 5, 2, 2])
 * @category evaluation
 */
export const mergeShardCounts = (shards: readonly (readonly PolicyCounts[])[]): E.Either<TtaError, readonly PolicyRow[]> => {
  const [first] = shards
  if (first === undefined) return E.left(paramError('no shard counts to merge'))
  const names = first.map((c) => c.policy).join(';')
  const other = shards.find((s) => s.map((c) => c.policy).join(';') !== names)
  if (other !== undefined) return E.left(paramError(`shards disagree on the policies: ${names} and ${other.map((c) => c.policy).join(';')}`))
  return E.right(first.map((row, k) => {
    const sum = (key: 'correct' | 'total' | 'fixed' | 'broken' | 'ms'): number => shards.reduce((s, shard) => s + (shard[k]?.[key] ?? 0), 0)
    const total = sum('total')
    const fixed = sum('fixed')
    const broken = sum('broken')
    return { policy: row.policy, views: row.views, correct: sum('correct'), total, fixed, broken, ms: sum('ms'), accuracy: sum('correct') / total, p: mcnemar(fixed, broken), msPerImage: sum('ms') / total }
  }))
}

/** The settings of an {@link EvalSpec} for {@link evaluateShard}. @internal */
export const evalOptionsOf = (spec: EvalSpec): ExecutionOptions & { readonly merge: MergeMode; readonly imagesPerRun: number } => ({
  backend: spec.backend, ...(spec.budget === undefined ? {} : { budget: spec.budget }), merge: spec.merge, imagesPerRun: spec.batch,
})
