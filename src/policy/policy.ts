/**
 * A policy file: the views and merge a search chose, for one model, as versioned JSON decoded with
 * io-ts. It names the model's input shape and number of classes, so a wrapper refuses it for
 * another model; it records the selection-set scores and the search's step table, so a reader can
 * see what each view bought. Decoding gives a value the wrappers run in place of a product
 * (`wrap.classification(model, policy)`) and `tta-lens run --policy` reads.
 *
 * Format version 1:
 * ```json
 * { "format": "tta-lens-policy", "version": 1, "task": "classification",
 *   "model": { "input": [1, 28, 28], "classes": 10, "scores": "logits", "name": "cnn_aug.onnx" },
 *   "views": [{ "name": "identity", "ops": [] }, { "name": "hflip", "ops": [{ "op": "hflip" }] }],
 *   "merge": { "mode": "mean", "over": "logits", "temperature": 1.21 },
 *   "selection": { … }, "search": { … } }
 * ```
 *
 * @since 0.4.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { policyError, type PolicyError } from '../errors.js'
import { excessKey } from '../guard/decode.js'
import type { ScoreKind } from '../merge/spread.js'
import type { RunnablePolicy } from '../wrapper/policy.js'
import { checkMerge, runnableMerge, type PolicyMerge } from './merges.js'
import type { SearchResult } from './search.js'
import { productOfViews, viewName, ViewOpCodec, type ViewOps } from './views.js'

/** The newest policy format this library reads and writes. @category model */
export const POLICY_VERSION = 1

const Header = t.type({ format: t.literal('tta-lens-policy'), version: t.number })

const MergeCodec = t.intersection([
  t.type({
    mode: t.keyof({ mean: null, gmean: null, tsharpen: null, max: null, vote: null, sum: null }),
    over: t.keyof({ logits: null, probabilities: null }),
    temperature: t.number,
  }),
  t.partial({ weights: t.array(t.array(t.number)) }),
])

const StepCodec = t.intersection([
  t.type({ step: t.number, action: t.keyof({ none: null, add: null, fit: null }), merge: t.string, nll: t.number, accuracy: t.number, fixed: t.number, broken: t.number }),
  t.partial({ view: t.string }),
])

/** The JSON of a policy file (version 1), as an io-ts codec. @category model */
export const PolicyFileCodec = t.intersection([
  t.type({
    format: t.literal('tta-lens-policy'),
    version: t.literal(1),
    task: t.keyof({ classification: null, segmentation: null }),
    model: t.intersection([
      t.type({ input: t.tuple([t.number, t.number, t.number]), classes: t.number, scores: t.keyof({ logits: null, probabilities: null }) }),
      t.partial({ name: t.string, sha256: t.string }),
    ]),
    views: t.array(t.type({ name: t.string, ops: t.array(ViewOpCodec) })),
    merge: MergeCodec,
  }),
  t.partial({
    selection: t.intersection([
      t.type({ items: t.number, nll: t.number, accuracy: t.number, baseline: t.type({ nll: t.number, accuracy: t.number }) }),
      t.partial({ source: t.string }),
    ]),
    search: t.intersection([
      t.type({ budget: t.type({ views: t.number }), pool: t.array(t.string), steps: t.array(StepCodec) }),
      t.partial({ crossValidation: t.array(t.type({ merge: t.string, nll: t.number })), seconds: t.number, command: t.string }),
    ]),
  }),
])
/** A policy file's content (see {@link PolicyFileCodec}). @category model */
export type PolicyFile = t.TypeOf<typeof PolicyFileCodec>

/** A decoded policy: what the wrappers run, with the file it came from. @category model */
export interface Policy extends RunnablePolicy {
  readonly file: PolicyFile
  readonly scores: ScoreKind
  readonly views: readonly ViewOps[]
  readonly policyMerge: PolicyMerge
}

const wholeDims = (dims: readonly number[]): boolean => dims.every((d) => Number.isInteger(d) && d > 0)

/**
 * A policy from a file's decoded content: checks the model, views and merge and builds the
 * product the wrappers run. The errors say what is wrong (`corrupt`) or that the file is from a
 * newer version (`version`).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { decodePolicy } from 'tta-lens'
 * const json = {
 *   format: 'tta-lens-policy', version: 1, task: 'classification',
 *   model: { input: [1, 28, 28], classes: 10, scores: 'logits' },
 *   views: [{ name: 'identity', ops: [] }, { name: 'hflip', ops: [{ op: 'hflip' }] }],
 *   merge: { mode: 'mean', over: 'logits', temperature: 1.2 },
 * }
 * const policy = decodePolicy(json)
 * assert.ok(E.isRight(policy) && policy.right.merge === 'mean' && policy.right.calibration?.temperature === 1.2)
 * const newer = decodePolicy({ ...json, version: 2 })
 * assert.ok(E.isLeft(newer) && newer.left.problem === 'version')
 * const broken = decodePolicy({ ...json, merge: { mode: 'median' } })
 * assert.ok(E.isLeft(broken) && broken.left.problem === 'corrupt')
 * @category constructors
 */
export const decodePolicy = (json: unknown): E.Either<PolicyError, Policy> => {
  const header = Header.decode(json)
  if (E.isLeft(header)) return E.left(policyError('corrupt', 'not a policy file: it needs "format": "tta-lens-policy" and a "version" number'))
  const version = header.right.version
  if (!Number.isInteger(version) || version < 1) return E.left(policyError('corrupt', `policy format version ${version} does not exist`))
  if (version > POLICY_VERSION) {
    return E.left(policyError('version', `this policy file has format version ${version}, but this tta-lens reads up to version ${POLICY_VERSION}: upgrade tta-lens, or search again with this one`))
  }
  const decoded = PolicyFileCodec.decode(json)
  if (E.isLeft(decoded)) {
    const where = decoded.left.slice(0, 3).map((e) => e.context.map((c) => c.key).filter((k) => k !== '' && !/^\d+$/.test(k)).join('.')).filter((p) => p !== '')
    return E.left(policyError('corrupt', `the policy file is not a valid version-1 policy${where.length === 0 ? '' : ` (check ${[...new Set(where)].join(', ')})`}`))
  }
  // Like a transform config, a policy file with a key this version does not know is refused, not silently run.
  const unknown = excessKey(PolicyFileCodec, json)
  if (unknown !== undefined) return E.left(policyError('corrupt', `the policy file has an unknown key '${unknown}' (a misspelling, or a file from another version)`))
  const file = decoded.right
  const [c, h, w] = file.model.input
  if (!wholeDims(file.model.input) || !Number.isInteger(file.model.classes) || file.model.classes < 1) {
    return E.left(policyError('corrupt', `the policy's model must have a positive whole input shape and class count, got [${file.model.input.join(',')}] and ${file.model.classes}`))
  }
  const views = file.views.map((v) => v.ops)
  const product = productOfViews(views, h, w)
  if (E.isLeft(product)) return E.left(policyError('corrupt', `the policy's views: ${product.left.message}`))
  const policyMerge: PolicyMerge = { mode: file.merge.mode, over: file.merge.over, temperature: file.merge.temperature, ...(file.merge.weights === undefined ? {} : { weights: file.merge.weights }) }
  const merge = checkMerge(policyMerge, file.model.scores, views.length, file.model.classes)
  if (E.isLeft(merge)) return merge
  const run = runnableMerge(merge.right, file.model.scores)
  return E.right({
    _tag: 'Policy', task: file.task, model: { input: [c, h, w], classes: file.model.classes },
    product: product.right, merge: run.merge,
    ...(run.combine === undefined ? {} : { combine: run.combine }),
    ...(file.task === 'classification' ? { calibration: run.calibration } : {}),
    file, scores: file.model.scores, views, policyMerge: merge.right,
  })
}

/**
 * A policy from the text of a file: JSON that does not parse is a `corrupt` PolicyError.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { parsePolicyText } from 'tta-lens'
 * const cut = parsePolicyText('{"format": "tta-lens-policy", "vers')
 * assert.ok(E.isLeft(cut) && cut.left.problem === 'corrupt' && cut.left.message.includes('not JSON'))
 * @category constructors
 */
export const parsePolicyText = (text: string): E.Either<PolicyError, Policy> => {
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return E.left(policyError('corrupt', `the policy file is not JSON: ${e instanceof Error ? e.message : String(e)}`))
  }
  return decodePolicy(json)
}

/**
 * A policy file's text (JSON, 2-space indented, weights rounded to 9 significant digits) — what
 * `tta-lens search` writes.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { encodePolicy, parsePolicyText, type PolicyFile } from 'tta-lens'
 * const file: PolicyFile = {
 *   format: 'tta-lens-policy', version: 1, task: 'classification',
 *   model: { input: [1, 4, 4], classes: 2, scores: 'logits' },
 *   views: [{ name: 'identity', ops: [] }],
 *   merge: { mode: 'mean', over: 'logits', temperature: 1 },
 * }
 * const again = parsePolicyText(encodePolicy(file))
 * assert.ok(E.isRight(again) && again.right.file.model.classes === 2)
 * @category destructors
 */
export const encodePolicy = (file: PolicyFile): string =>
  `${JSON.stringify(file, (key, value: unknown) => (key === 'weights' && Array.isArray(value)
    ? value.map((row: unknown) => (Array.isArray(row) ? row.map((x: unknown) => (typeof x === 'number' ? Number(x.toPrecision(9)) : x)) : row))
    : value), 2)}\n`

/**
 * The view list of a policy file from operation lists (names filled in).
 * @category constructors
 */
export const namedViews = (list: readonly ViewOps[]): PolicyFile['views'] => list.map((ops) => ({ name: viewName(ops), ops: [...ops] }))

/** What {@link policyFromSearch} needs besides the search's result. @category model */
export interface PolicySource {
  readonly task: 'classification' | 'segmentation'
  readonly model: PolicyFile['model']
  /** The candidate pool the search's view indices point into. */
  readonly pool: readonly ViewOps[]
  readonly budget: { readonly views: number }
  readonly items: number
  /** Where the selection set came from (for the record), e.g. `split.json#selection`. */
  readonly source?: string
  readonly seconds?: number
  /** The command that regenerates the file. */
  readonly command?: string
}

/**
 * The policy file of a search's result: the chosen views and merge, the selection-set scores, and
 * the step table.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { cachePredictions, decodePolicy, policyFromSearch, searchPolicy } from 'tta-lens'
 * const cache = cachePredictions([Float32Array.of(3, 0, 0, 3, 3, 0, 2, 0), Float32Array.of(2, 0, 0, 2, 2, 0, 0, 2)], 2, 'logits', ['identity', 'hflip'])
 * assert.ok(E.isRight(cache))
 * const found = searchPolicy(cache.right, [0, 1, 0, 1], { budget: { views: 2 } })
 * assert.ok(E.isRight(found))
 * const file = policyFromSearch(found.right, {
 *   task: 'classification', model: { input: [1, 1, 2], classes: 2, scores: 'logits' },
 *   pool: [[], [{ op: 'hflip' }]], budget: { views: 2 }, items: 4,
 * })
 * assert.ok(E.isRight(decodePolicy(file)))
 * assert.strictEqual(file.search?.steps[0]?.merge, 'none (single pass)')
 * @category constructors
 */
export const policyFromSearch = (result: SearchResult, source: PolicySource): PolicyFile => {
  const name = (v: number | undefined): string => viewName(source.pool[v ?? 0] ?? [])
  const merge = result.merge
  return {
    format: 'tta-lens-policy',
    version: 1,
    task: source.task,
    model: source.model,
    views: namedViews(result.views.map((v) => source.pool[v] ?? [])),
    merge: { mode: merge.mode, over: merge.over, temperature: merge.temperature, ...(merge.weights === undefined ? {} : { weights: merge.weights.map((row) => [...row]) }) },
    selection: {
      items: source.items, nll: result.chosen.nll, accuracy: result.chosen.accuracy,
      baseline: { nll: result.baseline.nll, accuracy: result.baseline.accuracy },
      ...(source.source === undefined ? {} : { source: source.source }),
    },
    search: {
      budget: { views: source.budget.views },
      pool: source.pool.map((ops) => viewName(ops)),
      steps: result.steps.map((s) => ({
        step: s.step, action: s.action, merge: s.mergeName, nll: s.nll, accuracy: s.accuracy, fixed: s.fixed, broken: s.broken,
        ...(s.action === 'add' ? { view: name(s.view) } : {}),
      })),
      ...(result.crossValidation.length === 0 ? {} : { crossValidation: result.crossValidation.map((c) => ({ ...c })) }),
      ...(source.seconds === undefined ? {} : { seconds: source.seconds }),
      ...(source.command === undefined ? {} : { command: source.command }),
    },
  }
}
