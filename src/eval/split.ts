/**
 * Honest splits: a labelled set cut into a *selection* half (where a TTA policy is chosen) and an
 * *evaluation* half (where it is measured), as data. The repository ships its splits as files
 * (`assets/fashion-mnist/split.json`, `assets/textdet/split.json`, made once by
 * `tools/splits/make_splits.ts`); this module decodes and checks them and cuts a set by them.
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, shapeError, type ParamError, type ShapeError } from '../errors.js'
import type { LabelledSet } from './classify.js'

/** Two disjoint lists of items (indices or file names): where a policy is chosen, where it is measured. @category model */
export interface Split<K extends number | string> {
  readonly selection: readonly K[]
  readonly evaluation: readonly K[]
}

const IndexSplitCodec = t.type({ selection: t.array(t.number), evaluation: t.array(t.number) })
const NameSplitCodec = t.type({ selection: t.array(t.string), evaluation: t.array(t.string) })

const disjoint = <K extends number | string>(split: Split<K>, what: string): E.Either<ParamError, Split<K>> => {
  for (const [name, list] of [['selection', split.selection], ['evaluation', split.evaluation]] as const) {
    const seen = new Set<K>()
    for (const item of list) {
      if (seen.has(item)) return E.left(paramError(`${what}: ${String(item)} appears twice in ${name}`))
      seen.add(item)
    }
  }
  const selection = new Set<K>(split.selection)
  const shared = split.evaluation.find((item) => selection.has(item))
  return shared === undefined ? E.right(split) : E.left(paramError(`${what}: ${String(shared)} is in both selection and evaluation`))
}

/**
 * Decodes a split of item indices (a JSON object with `selection` and `evaluation` arrays) and
 * checks it: whole numbers in `[0, total)`, no repeats, and no item in both halves.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { decodeIndexSplit } from 'tta-lens'
 * assert.ok(E.isRight(decodeIndexSplit({ selection: [0, 2], evaluation: [1, 3] }, 4)))
 * const leak = decodeIndexSplit({ selection: [0, 1], evaluation: [1, 2] }, 4)
 * assert.ok(E.isLeft(leak) && leak.left.message.includes('1 is in both'))
 * assert.ok(E.isLeft(decodeIndexSplit({ selection: [0, 9], evaluation: [1] }, 4)))   // 9 is past the set
 * @category constructors
 */
export const decodeIndexSplit = (json: unknown, total: number): E.Either<ParamError, Split<number>> => {
  const decoded = IndexSplitCodec.decode(json)
  if (E.isLeft(decoded)) return E.left(paramError('a split is { "selection": [indices], "evaluation": [indices] }'))
  const bad = [...decoded.right.selection, ...decoded.right.evaluation].find((i) => !Number.isInteger(i) || i < 0 || i >= total)
  if (bad !== undefined) return E.left(paramError(`split: index ${bad} is not an item of a set of ${total}`))
  return disjoint(decoded.right, 'split')
}

/**
 * Decodes a split of named items (file names) and checks that no name is repeated or in both halves.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { decodeNameSplit } from 'tta-lens'
 * assert.ok(E.isRight(decodeNameSplit({ selection: ['a.jpg'], evaluation: ['b.jpg'] })))
 * assert.ok(E.isLeft(decodeNameSplit({ selection: ['a.jpg'], evaluation: ['a.jpg'] })))
 * @category constructors
 */
export const decodeNameSplit = (json: unknown): E.Either<ParamError, Split<string>> => {
  const decoded = NameSplitCodec.decode(json)
  if (E.isLeft(decoded)) return E.left(paramError('a split is { "selection": [names], "evaluation": [names] }'))
  return disjoint(decoded.right, 'split')
}

/**
 * The items of a labelled set at the given indices, in that order (copied, so the part does not
 * keep the whole set alive).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { subset, type LabelledSet } from 'tta-lens'
 * const set: LabelledSet = { shape: [3, 1, 1, 2], images: Float32Array.of(1, 2, 3, 4, 5, 6), labels: [0, 1, 2] }
 * const part = subset(set, [2, 0])
 * assert.ok(E.isRight(part))
 * assert.deepStrictEqual([part.right.shape, Array.from(part.right.images), Array.from(part.right.labels)], [[2, 1, 1, 2], [5, 6, 1, 2], [2, 0]])
 * @category combinators
 */
export const subset = (set: LabelledSet, indices: readonly number[]): E.Either<ShapeError, LabelledSet> => {
  const [n, c, h, w] = set.shape
  const per = c * h * w
  if (set.images.length !== n * per || set.labels.length !== n) {
    return E.left(shapeError(`a labelled set of [${set.shape.join(',')}] needs ${n * per} pixel values and ${n} labels, got ${set.images.length} and ${set.labels.length}`))
  }
  const bad = indices.find((i) => !Number.isInteger(i) || i < 0 || i >= n)
  if (bad !== undefined) return E.left(shapeError(`index ${bad} is not an item of a set of ${n}`))
  const images = new Float32Array(indices.length * per)
  const labels = new Int32Array(indices.length)
  indices.forEach((i, k) => {
    images.set(set.images.subarray(i * per, (i + 1) * per), k * per)
    labels[k] = set.labels[i] ?? -1
  })
  return E.right({ shape: [indices.length, c, h, w], images, labels })
}
