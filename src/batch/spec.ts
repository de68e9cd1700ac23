/**
 * What a batch run or evaluation does, as data: everything a worker needs to run the same plan as
 * the single-process path — the model file, the task, the policy (its alias string or its config
 * JSON), the merge, the preprocessing, the backend, where outputs go — so that a job carries its
 * whole recipe and a worker needs nothing but the job. A spec crosses a process or machine boundary
 * (a thread pool, a Redis queue), so it is decoded with io-ts on arrival, and it has an id (a hash
 * of its canonical JSON) that names the run: jobs of one spec on one queue are one run. Node-only.
 *
 * @since 0.5.0
 */
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, type ParamError } from '../errors.js'
import { decodeWith, strictObject } from '../guard/decode.js'
import type { MergeMode } from '../merge/merge.js'
import { DetectionSettingsCodec } from './detection-files.js'

const Task = t.union([t.literal('classification'), t.literal('segmentation'), t.literal('keypoints'), t.literal('detection')])
const Backend = t.union([t.literal('js'), t.literal('reference'), t.literal('gpujs')])
const Merge = t.keyof({ mean: null, gmean: null, sum: null, max: null, min: null, tsharpen: null, vote: null } satisfies Record<MergeMode, null>)

const PreprocessSpec = strictObject('preprocess', { channels: t.union([t.literal(1), t.literal(3)]) }, {
  size: t.readonly(t.tuple([t.number, t.number])),
  mean: t.readonlyArray(t.number),
  std: t.readonlyArray(t.number),
  bgr: t.boolean,
})

/**
 * The policy: an alias string (`d4`, `hflip+shifts:1`), a transform config's JSON, or a searched
 * policy file's JSON (`--policy`), with the label outputs record it by. A config or a policy file
 * travels as data and is decoded by the worker, which needs no file of its own.
 */
const PolicySpec = t.union([
  strictObject('policy', { tta: t.string, label: t.string }, {}),
  strictObject('policy', { config: t.unknown, label: t.string }, {}),
  strictObject('policy', { file: t.unknown, label: t.string }, {}),
])

const ModelSpec = {
  /** tta-lens version that made the spec: a worker of another version refuses it. */
  version: t.string,
  /** The folder relative paths are resolved against (the producer's working folder). */
  cwd: t.string,
  model: t.string,
  merge: Merge,
  backend: Backend,
  preprocess: PreprocessSpec,
}
const ModelOptional = { budget: t.string, threads: t.number, outputName: t.string }

/**
 * A `run` over image files: each input's outputs are written into `out` with the atomic-write and
 * resume rules of `io/files`. A detection run also carries its head, fusion and minimum score.
 * @category model
 */
export const RunSpec = strictObject('run spec', {
  kind: t.literal('run'),
  ...ModelSpec,
  task: Task,
  policy: PolicySpec,
  out: t.string,
  suffixes: t.readonlyArray(t.string),
  coordinates: t.union([t.literal('pixels'), t.literal('normalized')]),
  force: t.boolean,
}, { ...ModelOptional, detection: DetectionSettingsCodec })
/** @category model */
export type RunSpec = t.TypeOf<typeof RunSpec>

/**
 * An `eval` of classification policies on a labelled set (IDX files or class folders); shards are
 * ranges of the set's images.
 * @category model
 */
export const EvalSpec = strictObject('eval spec', {
  kind: t.literal('eval'),
  ...ModelSpec,
  policies: t.readonlyArray(t.string),
  source: t.union([
    strictObject('source', { idx: t.readonly(t.tuple([t.string, t.string])) }, { indices: t.readonlyArray(t.number), limit: t.number }),
    strictObject('source', { folder: t.string }, { limit: t.number }),
  ]),
  batch: t.number,
}, ModelOptional)
/** @category model */
export type EvalSpec = t.TypeOf<typeof EvalSpec>

/** Either kind of spec. @category model */
export type BatchSpec = RunSpec | EvalSpec

/** Keys sorted at every level, so that equal specs have equal JSON whatever order they were built in. */
const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical)
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(Reflect.get(value, k))]))
  }
  return value
}

/**
 * The id of a spec: 16 hex digits of the SHA-256 of its canonical JSON. Two producers with the same
 * inputs and flags make the same id, so their jobs coincide instead of running twice.
 * @example
 * import { specId } from 'tta-lens/queue'
 * const spec = { kind: 'eval', version: '0.1.0', cwd: '/data', model: 'm.onnx', merge: 'mean', backend: 'js',
 *   preprocess: { channels: 1 }, policies: ['none', 'hflip'], source: { folder: 'set' }, batch: 500 } as const
 * assert.match(specId(spec), /^[0-9a-f]{16}$/)
 * assert.strictEqual(specId(spec), specId({ ...spec, batch: 500 }))
 * assert.notStrictEqual(specId(spec), specId({ ...spec, policies: ['none', 'd4'] }))
 * @category utils
 */
export const specId = (spec: BatchSpec): string =>
  createHash('sha256').update(JSON.stringify(canonical(spec))).digest('hex').slice(0, 16)

/**
 * Decodes a spec that arrived from outside (a job's data, a thread's message): unknown keys and
 * wrong types are a `ParamError` naming the field.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { decodeSpec } from 'tta-lens/queue'
 * const bad = decodeSpec({ kind: 'run', version: '0.1.0' })
 * assert.ok(E.isLeft(bad) && bad.left.message.startsWith('job spec: '))
 * @category constructors
 */
export const decodeSpec = (value: unknown): E.Either<ParamError, BatchSpec> => {
  const kind: unknown = typeof value === 'object' && value !== null ? Reflect.get(value, 'kind') : undefined
  if (kind === 'run') return decodeWith(RunSpec, value, 'job spec')
  if (kind === 'eval') return decodeWith(EvalSpec, value, 'job spec')
  return E.left(paramError(`job spec: kind must be 'run' or 'eval', got ${JSON.stringify(kind) ?? 'nothing'}`))
}

/**
 * The spec in a few words, for messages that name a run ("policy d4, model unet.onnx").
 * @example
 * import { describeSpec } from 'tta-lens/queue'
 * assert.strictEqual(describeSpec({ kind: 'eval', version: '0.1.0', cwd: '/', model: '/m/cnn.onnx', merge: 'mean', backend: 'js',
 *   preprocess: { channels: 1 }, policies: ['none', 'hflip'], source: { folder: 'set' }, batch: 500 }),
 *   'eval of none;hflip with cnn.onnx (tta-lens 0.1.0)')
 * @category utils
 */
export const describeSpec = (spec: BatchSpec): string => {
  const model = spec.model.split(/[\\/]/).pop() ?? spec.model
  return spec.kind === 'run'
    ? `run of ${spec.policy.label} with ${model} into ${spec.out} (tta-lens ${spec.version})`
    : `eval of ${spec.policies.join(';')} with ${model} (tta-lens ${spec.version})`
}
