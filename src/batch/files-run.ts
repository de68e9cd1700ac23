/**
 * One input file through TTA to its output files: decode, predict with the task's wrapper, encode,
 * write with the rules of `io/files` (resume, read-only outputs kept, atomic writes). The CLI's
 * single-process `run`, its thread pool and every queue worker run inputs through this one module,
 * so that they run the same plan and write the same bytes. Node-only.
 *
 * @since 0.5.0
 */
import { access, constants } from 'node:fs/promises'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { paramError, type TtaError } from '../errors.js'
import { decodePolicy, type Policy } from '../policy/policy.js'
import type { AnyFactor, Product } from '../algebra/product.js'
import type { MergeMode } from '../merge/merge.js'
import type { Tensor } from '../tensor/tensor.js'
import { taskFits } from '../plan/dry-run.js'
import * as wrap from '../wrapper/wrap.js'
import type { ExecutionOptions } from '../wrapper/execute.js'
import type { ModelOutput } from '../wrapper/model.js'
import * as onnx from '../backend/onnx.js'
import { parsePolicy, productFromConfig } from '../config/transforms.js'
import { argmaxRows } from '../eval/classify.js'
import { encodeNpy, encodePng, greyFromMap, readImage, type Preprocess } from '../io/image.js'
import { jobState, writeAtomic, type OutputJob } from '../io/files.js'
import type { RunSpec } from './spec.js'
import { checkDetectionViews, detectionHead, detectionPredictor, type DetectionSettings } from './detection-files.js'

/** The tasks `run` writes outputs for. @category model */
export type FileTask = 'classification' | 'segmentation' | 'keypoints' | 'detection'

/**
 * What happened to one input: its outputs were written, they already existed (skipped by the
 * resume rule), or it failed — with `retry` telling whether another attempt could succeed (the
 * worker could not see the input or write its output, or something unexpected was thrown) or not
 * (the input itself is bad: it does not decode, the plan refuses it, the model fails on it).
 * @category model
 */
export type InputOutcome =
  | { readonly status: 'written' }
  | { readonly status: 'skipped' }
  | { readonly status: 'failed'; readonly reason: string; readonly retry: boolean }

/**
 * What `run` writes for one input, by task: a JSON record for labels, keypoints and boxes, an 8-bit
 * PNG of the foreground probability and the full NPY for masks.
 * @example
 * import { outputSuffixes } from 'tta-lens/queue'
 * assert.deepStrictEqual(outputSuffixes('segmentation'), ['.mask.png', '.mask.npy'])
 * assert.deepStrictEqual(outputSuffixes('classification'), ['.json'])
 * @category utils
 */
export const outputSuffixes = (task: FileTask): readonly string[] => (task === 'segmentation' ? ['.mask.png', '.mask.npy'] : ['.json'])

/** How a file runner decodes, predicts and records; a {@link RunSpec} holds the same. @category model */
export interface FileRunSettings {
  readonly task: FileTask
  readonly preprocess: Preprocess
  /** The policy as outputs record it (the `--tta` string, the `--config` path or the `--policy` file). */
  readonly policyLabel: string
  /** The product is a searched policy (its merge is its own; records say `merge: 'policy'`). */
  readonly policyFile?: boolean
  readonly merge: MergeMode
  readonly coordinates: 'pixels' | 'normalized'
  readonly execution: ExecutionOptions
  /** Recompute outputs that exist. */
  readonly force: boolean
  /** Relative input and output paths are resolved against this folder (default: the process's). */
  readonly cwd?: string
  /** For `detection`: the head, fusion and minimum score (required by that task, ignored by the others). */
  readonly detection?: DetectionSettings
}

type ImageTensor = Tensor<readonly [1, number, number, number]>
/** A tensor prediction, or a detection record already written as JSON. */
type Prediction = { readonly shape: readonly number[]; readonly data: Float32Array } | { readonly json: string }
/** `file` is where the input is read from, `shown` how its record names it. */
type Predict = (image: ImageTensor, file: string, shown: string) => Promise<E.Either<TtaError, Prediction>>

/** The task's wrapper, built once for the whole batch. */
const predictor = (s: FileRunSettings, model: (batch: never, ...extra: never) => Promise<ModelOutput>, product: Product<readonly AnyFactor[]> | Policy): Predict => {
  if ('_tag' in product && product._tag === 'Policy') {
    // A policy carries its own views, merge and calibration: only the execution options apply.
    if (s.task === 'keypoints' || s.task === 'detection') return async () => E.left(paramError(`a policy file is for classification or segmentation, not ${s.task}`))
    const tta = s.task === 'segmentation' ? wrap.segmentation(model, product, s.execution) : wrap.classification(model, product, s.execution)
    return (image) => tta.run(image)()
  }
  if (s.task === 'detection') {
    // A detection model is the model with its head; the views' boxes are fused, not merged.
    const refused = (error: TtaError): Predict => async () => E.left(error)
    if (s.detection === undefined) return refused(paramError('a detection run needs its detection settings (head, fusion, minimum score)'))
    const views = checkDetectionViews(s.detection, product, s.policyLabel)
    if (E.isLeft(views)) return refused(views.left)
    const head = detectionHead(model, s.detection)
    return E.isLeft(head) ? refused(head.left) : detectionPredictor(head.right, product, s.detection, s.execution, s.policyLabel, s.preprocess)
  }
  const execution = { ...s.execution, merge: s.merge }
  if (s.task === 'segmentation') {
    const seg = wrap.segmentation(model, product, execution)
    return (image) => seg.run(image)()
  }
  if (s.task === 'keypoints') {
    const points = wrap.keypoints(model, product, { ...execution, merge: s.merge === 'vote' ? 'mean' : s.merge, coordinates: s.coordinates })
    return (image) => points.run(image)()
  }
  const labels = wrap.classification(model, product, execution)
  return (image) => labels.run(image)()
}

/** The bytes of one input's outputs, in the order of {@link outputSuffixes}. */
const encodeOutputs = async (s: FileRunSettings, file: string, result: Prediction, height: number, width: number): Promise<readonly (Uint8Array | string)[]> => {
  if ('json' in result) return [result.json]
  const { shape, data } = result
  if (s.task === 'segmentation') {
    // PNG: the probability of the last channel (foreground for 1- and 2-channel masks); NPY: everything.
    const k = shape[1] ?? 1
    const plane = data.subarray((k - 1) * height * width, k * height * width)
    return [await encodePng(greyFromMap(plane), height, width, 1), encodeNpy(data, shape)]
  }
  const scores = Array.from(data)
  const record = s.task === 'classification'
    ? { image: file, policy: s.policyLabel, merge: s.policyFile ? 'policy' : s.merge, class: argmaxRows(data, 1)[0], scores }
    : { image: file, policy: s.policyLabel, merge: s.merge, keypoints: scores }
  return [`${JSON.stringify(record, null, 2)}\n`]
}

const errorCode = (e: unknown): string => (typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : e instanceof Error ? e.message : String(e))

/** Runs inputs to outputs with one model; see {@link fileRunner}. @category model */
export interface FileRunner {
  /** Resume check, then decode → predict → encode → atomic writes; never throws. */
  readonly run: (job: OutputJob) => Promise<InputOutcome>
}

/**
 * A runner for one model and policy: each call takes one input through the resume check, TTA and
 * the atomic writes of its outputs. Every failure is an {@link InputOutcome}; nothing throws.
 * @example
 * import { mkdtemp, readFile } from 'node:fs/promises'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import sharp from 'sharp'
 * import { aliases, orThrow, tensor, type Tensor } from 'tta-lens'
 * import { fileRunner } from 'tta-lens/queue'
 * const dir = await mkdtemp(join(tmpdir(), 'tta-runner-'))
 * await sharp(Buffer.alloc(2 * 3 * 3, 200), { raw: { width: 3, height: 2, channels: 3 } }).png().toFile(join(dir, 'a.png'))
 * // A two-class "model": each image's mean brightness and its complement.
 * const model = async (x: Tensor<readonly ['N', 3, 'H', 'W']>) => {
 *   const n = x.shape[0]
 *   const size = x.data.length / n
 *   const scores = new Float32Array(2 * n)
 *   for (let i = 0; i < n; i++) {
 *     const mean = x.data.subarray(i * size, (i + 1) * size).reduce((s, v) => s + v, 0) / size
 *     scores.set([mean, 1 - mean], 2 * i)
 *   }
 *   return orThrow(tensor([n, 2], scores))
 * }
 * const runner = fileRunner({ task: 'classification', preprocess: { channels: 3 }, policyLabel: 'hflip', merge: 'mean',
 *   coordinates: 'pixels', execution: {}, force: false }, model, aliases.hflip())
 * const job = { input: join(dir, 'a.png'), outputs: [join(dir, 'a.json')] }
 * assert.deepStrictEqual(await runner.run(job), { status: 'written' })
 * assert.strictEqual(JSON.parse(await readFile(join(dir, 'a.json'), 'utf8')).class, 0)
 * assert.deepStrictEqual(await runner.run(job), { status: 'skipped' })
 * @category constructors
 */
export const fileRunner = (given: FileRunSettings, model: (batch: never, ...extra: never) => Promise<ModelOutput>, product: Product<readonly AnyFactor[]> | Policy): FileRunner => {
  const s: FileRunSettings = { ...given, policyFile: given.policyFile ?? ('_tag' in product && product._tag === 'Policy') }
  const predict = predictor(s, model, product)
  const at = (path: string): string => (s.cwd === undefined ? path : resolve(s.cwd, path))
  const runJob = async (job: OutputJob): Promise<InputOutcome> => {
    const file = at(job.input)
    const image = await readImage(file, s.preprocess)
    if (E.isLeft(image)) {
      // A file this process cannot see is the worker's problem (another machine may see it); a file it
      // can read but not decode is the input's.
      const visible = await access(file, constants.R_OK).then(() => undefined, (e: unknown) => errorCode(e))
      if (visible !== undefined) return { status: 'failed', reason: `cannot see ${file} from ${hostname()}: ${visible}`, retry: true }
      return { status: 'failed', reason: image.left._tag === 'ShapeError' ? image.left.message : `${image.left._tag}: ${image.left.message}`, retry: false }
    }
    const { tensor: input, height, width } = image.right
    const result = await predict(input, file, job.input)
    if (E.isLeft(result)) return { status: 'failed', reason: `${result.left._tag}: ${result.left.message}`, retry: false }
    const bytes = await encodeOutputs(s, job.input, result.right, height, width)
    for (const [k, output] of job.outputs.entries()) {
      const written = await writeAtomic(at(output), bytes[k] ?? '')
      if (E.isLeft(written)) return { status: 'failed', reason: written.left.message, retry: true }
    }
    return { status: 'written' }
  }
  return {
    run: async (job) => {
      try {
        const resolved = { input: at(job.input), outputs: job.outputs.map(at) }
        const state = await jobState(resolved, s.force ? { force: true } : {})
        if (E.isLeft(state)) return { status: 'failed', reason: state.left.message, retry: state.left.reason === 'write-failed' }
        if (state.right === 'done') return { status: 'skipped' }
        return await runJob(job)
      } catch (e) {
        return { status: 'failed', reason: `internal error: ${e instanceof Error ? e.message : String(e)}`, retry: true }
      }
    },
  }
}

/** The settings of a {@link RunSpec}, for {@link fileRunner}. */
const settingsOf = (spec: RunSpec): FileRunSettings => ({
  task: spec.task,
  preprocess: spec.preprocess,
  policyLabel: spec.policy.label,
  merge: spec.merge,
  coordinates: spec.coordinates,
  execution: { backend: spec.backend, ...(spec.budget === undefined ? {} : { budget: spec.budget }) },
  force: spec.force,
  cwd: spec.cwd,
  ...(spec.detection === undefined ? {} : { detection: spec.detection }),
})

/** For a detection spec: settings present, one weight per view if any, a head for the model's output. */
const detectionFits = (spec: RunSpec, product: Product<readonly AnyFactor[]> | Policy, model: (batch: never, ...extra: never) => Promise<ModelOutput>): E.Either<TtaError, void> => {
  if (spec.task !== 'detection') return E.right(undefined)
  if ('_tag' in product && product._tag === 'Policy') return E.left(paramError('a policy file (--policy) is for classification or segmentation; a detection run takes --tta or --config'))
  const settings = spec.detection
  if (settings === undefined) return E.left(paramError('a detection run spec needs its detection settings (head, fusion, minimum score)'))
  return E.flatMap(checkDetectionViews(settings, product, spec.policy.label), () => E.Functor.map(detectionHead(model, settings), () => undefined))
}

/** An open runner and the model it holds; `release` frees the model. @category model */
export interface OpenFileRunner extends FileRunner {
  readonly release: () => Promise<void>
}

/**
 * Opens the spec's model, checks that it fits the task, builds the policy and returns a runner:
 * what a worker does once per run it serves. A model that cannot be opened or a policy that does
 * not parse is a typed error naming it.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { openFileRunner } from 'tta-lens/queue'
 * const opened = await openFileRunner({ kind: 'run', version: '0.1.0', cwd: process.cwd(), model: 'no/such.onnx', task: 'segmentation',
 *   policy: { tta: 'd4', label: 'd4' }, merge: 'mean', backend: 'js', preprocess: { channels: 3 }, out: 'out',
 *   suffixes: ['.mask.png', '.mask.npy'], coordinates: 'pixels', force: false })
 * assert.ok(E.isLeft(opened) && opened.left._tag === 'ModelError')
 * @category constructors
 */
export const openFileRunner = async (spec: RunSpec): Promise<E.Either<TtaError, OpenFileRunner>> => {
  const policy = spec.policy
  const product: E.Either<TtaError, Product<readonly AnyFactor[]> | Policy> = 'tta' in policy
    ? parsePolicy(policy.tta)
    : 'config' in policy
      ? productFromConfig(policy.config)
      : E.mapLeft((e: TtaError) => ({ ...e, message: `${policy.label}: ${e.message}` }))(decodePolicy(policy.file))
  if (E.isLeft(product)) return product
  const model = await onnx.open(resolve(spec.cwd, spec.model), {
    ...(spec.outputName === undefined ? {} : { output: spec.outputName }),
    ...(spec.threads === undefined ? {} : { threads: spec.threads }),
  })()
  if (E.isLeft(model)) return model
  const fits = taskFits(spec.task, model.right.signature.output)
  // A detection run is refused here, before any input, when its settings do not fit the model or the policy.
  const checked = E.flatMap(fits, () => detectionFits(spec, product.right, model.right))
  if (E.isLeft(checked)) {
    await model.right.release()
    return checked
  }
  const runner = fileRunner(settingsOf(spec), model.right, product.right)
  return E.right({ ...runner, release: () => model.right.release() })
}
