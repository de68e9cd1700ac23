/**
 * What every wrapper does on `run`: check the setup, build the plan, dry-run it against the
 * model's signature when the model carries one (an ONNX model does), pick the backend, and let
 * the `run` interpreter perform it.
 *
 * @since 0.2.0
 */
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { paramError, policyError, type TtaError } from '../errors.js'
import { showValue } from '../guard/decode.js'
import { decodeOptions } from './options.js'
import type { AnyFactor, Product, ViewSpec } from '../algebra/product.js'
import type { Backend, BackendName } from '../backend/backend.js'
import { gpujsBackend } from '../backend/gpujs.js'
import { jsBackend } from '../backend/js.js'
import { referenceBackend } from '../backend/reference/backend.js'
import { calibrate } from '../merge/calibrate.js'
import { voteLayout, type MergeMode } from '../merge/merge.js'
import type { ViewPreparation } from '../merge/prepare.js'
import type { ScoreKind } from '../merge/spread.js'
import type { Budget } from '../plan/budget.js'
import { dryRun } from '../plan/dry-run.js'
import { buildPlan, type ModelSignature, type Plan, type Task } from '../plan/plan.js'
import { run, type RawTensor, type RunResult } from '../plan/run.js'
import type { Shape } from '../tensor/shape.js'
import { assumeOutcome, assumeShape, type Tensor } from '../tensor/trusted.js'
import { checkSetup, imageOf, viewsOrNone } from './common.js'
import { callModel, decodeOutput, type Callable } from './model.js'
import type { FusionOptions } from '../boxes/fusion-options.js'
import { checkPolicyImage, checkPolicyModel, checkPolicyOutput, isPolicy, type RunnablePolicy } from './policy.js'

/** How a wrapper runs: where kernels run, how much memory, how many images per model call. @category model */
export interface ExecutionOptions {
  /** `'js'` (default on the CPU), `'reference'`, `'gpujs'`, or a backend instance. */
  readonly backend?: BackendName | Backend
  /** Bytes or text such as `'512MiB'`: sets how many views share one model call. */
  readonly budget?: Budget
  /** Most images per model call (a model's fixed batch). ONNX models say it themselves. */
  readonly maxBatch?: number
  /** `false`: one view per model call, as ttach does. Default: views of one size share a call. */
  readonly batch?: boolean
  /** Milliseconds the whole run may take; past it the run returns a `CancelledError`. */
  readonly timeout?: number
  /** Milliseconds one model call may take (a model promise that never settles is abandoned). */
  readonly modelTimeout?: number
  /** Stops the run (between steps, and while waiting for the model) when it aborts. */
  readonly signal?: AbortSignal
}

const SignatureCodec = t.partial({
  input: t.readonlyArray(t.union([t.number, t.string])),
  output: t.readonlyArray(t.union([t.number, t.string])),
  maxBatch: t.number,
})

/** The signature a model function carries (an ONNX model does), decoded, or undefined. @internal */
export const signatureOf = (model: unknown): ModelSignature | undefined => {
  if (typeof model !== 'function' || !('signature' in model)) return undefined
  const decoded = SignatureCodec.decode(model.signature)
  if (E.isLeft(decoded)) return undefined
  const { input, output, maxBatch } = decoded.right
  return { ...(input === undefined ? {} : { input }), ...(output === undefined ? {} : { output }), ...(maxBatch === undefined ? {} : { maxBatch }) }
}

const backendCache = new Map<BackendName, Promise<Backend>>()

/**
 * A backend by name (gpu.js is probed once per process): the same instance every time, so asking
 * for one per run costs nothing.
 * @example
 * import { backendNamed } from 'tta-lens'
 * const js = await backendNamed('js')
 * assert.strictEqual(js.name, 'js')
 * assert.strictEqual(await backendNamed('js'), js)
 * assert.strictEqual((await backendNamed('reference')).name, 'reference')
 * @category constructors
 */
export const backendNamed = (name: BackendName): Promise<Backend> => {
  const hit = backendCache.get(name)
  if (hit !== undefined) return hit
  const made = name === 'gpujs' ? gpujsBackend() : Promise.resolve(name === 'reference' ? referenceBackend() : jsBackend())
  backendCache.set(name, made)
  return made
}

/** @internal */
export interface TaskInput {
  readonly task: Task
  readonly model: Callable
  readonly signature: ModelSignature | undefined
  readonly transforms: Product<readonly AnyFactor[]>
  readonly specs: readonly ViewSpec[]
  readonly merge: unknown
  readonly allowed: readonly MergeMode[]
  readonly outputKey: string | undefined
  readonly onView: ((done: number, total: number) => void) | undefined
  readonly execution: ExecutionOptions
  readonly pixelKeypoints?: boolean
  /**
   * Why the wrapper cannot run at all (bad options, a model that is not a function, a policy for
   * another task or model), reported by `run` and `plan`.
   */
  readonly setupError?: TtaError
  /** Detection: the fusion and the rule for cut boxes, as given (buildPlan checks them). */
  readonly boxes?: { readonly fusion?: FusionOptions; readonly cutBoxes?: 'keep' | 'drop'; readonly minScore?: number }
  readonly combine: ViewPreparation | undefined
  readonly uncertainty: ScoreKind | undefined
  /** The policy the wrapper was given instead of a product, if any. */
  readonly policy: RunnablePolicy | undefined
}

/** The options {@link wrapperParts} reads. @internal */
export type PartsOptions = ExecutionOptions & {
  readonly merge?: MergeMode
  readonly outputKey?: string
  readonly onView?: (done: number, total: number) => void
  readonly combine?: ViewPreparation
  readonly uncertainty?: ScoreKind | undefined
}

const policyProblem = (task: Task, policy: RunnablePolicy, options: PartsOptions, signature: ModelSignature | undefined): TtaError | undefined => {
  if (policy.task !== task) return policyError('model', `a ${policy.task} policy cannot run in the ${task} wrapper`)
  if (options.merge !== undefined || options.combine !== undefined) {
    return paramError('a policy carries its own merge: pass the policy without merge or combine, or pass a product')
  }
  const model = checkPolicyModel(policy, signature)
  return E.isLeft(model) ? model.left : undefined
}

/** The parts every wrapper shares: its task input, its views, and its `plan` for an image. @internal */
export const wrapperParts = (
  task: Task,
  model: (batch: never, ...extra: never) => Promise<unknown>,
  given: Product<readonly AnyFactor[]> | RunnablePolicy,
  options: PartsOptions,
  allowed: readonly MergeMode[],
  extra: Pick<TaskInput, 'pixelKeypoints' | 'boxes'> = {},
  extraOptions: t.Props = {},
): { readonly input: TaskInput; readonly views: readonly ViewSpec[]; readonly plan: (image: Tensor<Shape>) => E.Either<TtaError, Plan> } => {
  // Everything an untyped caller passes is checked once, here, by the one option decoder.
  const callee: unknown = model
  const decoded = typeof callee !== 'function'
    ? E.left(paramError(`the model must be a function from a batch tensor to a promise of a tensor, got ${showValue(callee)}`))
    : decodeOptions(options, extraOptions)
  const safe: PartsOptions = E.isRight(decoded) ? options : {}
  const signature = signatureOf(model)
  const policy = isPolicy(given) ? given : undefined
  const transforms = isPolicy(given) ? given.product : given
  const problem = E.isLeft(decoded) ? decoded.left : policy === undefined ? undefined : policyProblem(task, policy, safe, signature)
  const input: TaskInput = {
    task, model: { call: model }, signature, transforms, specs: viewsOrNone(transforms),
    merge: policy === undefined ? safe.merge : policy.merge, allowed, outputKey: safe.outputKey, onView: safe.onView, execution: safe, ...extra,
    combine: policy === undefined ? safe.combine : policy.combine,
    uncertainty: safe.uncertainty,
    policy,
    ...(problem === undefined ? {} : { setupError: problem }),
  }
  return { input, views: input.specs, plan: (image) => E.Functor.map(planFor(input, image), ({ plan }) => plan) }
}

/** Builds the plan for an image, or says why there is none. @internal */
export const planFor = (input: TaskInput, image: Tensor<Shape>): E.Either<TtaError, { plan: Plan; image: RawTensor }> => {
  if (input.setupError !== undefined) return E.left(input.setupError)
  const setup = checkSetup(input.transforms, input.merge, input.allowed)
  if (E.isLeft(setup)) return setup
  const raw = imageOf(image)
  if (E.isLeft(raw)) return raw
  if (input.policy !== undefined) {
    const fits = checkPolicyImage(input.policy, raw.right.shape)
    if (E.isLeft(fits)) return fits
  }
  const maxBatch = input.execution.maxBatch
  if (maxBatch !== undefined && (!Number.isInteger(maxBatch) || maxBatch < 1)) return E.left(paramError(`maxBatch must be a positive integer, got ${maxBatch}`))
  const plan = buildPlan(input.task, input.specs, raw.right.shape, {
    merge: setup.right,
    ...(input.execution.budget === undefined ? {} : { budget: input.execution.budget }),
    ...(maxBatch === undefined ? {} : { maxBatch }),
    ...(input.execution.batch === undefined ? {} : { batch: input.execution.batch }),
    ...(input.signature === undefined ? {} : { signature: input.signature }),
    ...(input.combine === undefined ? {} : { combine: input.combine }),
    ...(input.uncertainty === undefined ? {} : { uncertainty: input.uncertainty }),
    ...(input.boxes?.fusion === undefined ? {} : { fusion: input.boxes.fusion }),
    ...(input.boxes?.cutBoxes === undefined ? {} : { cutBoxes: input.boxes.cutBoxes }),
    ...(input.boxes?.minScore === undefined ? {} : { minScore: input.boxes.minScore }),
  })
  if (E.isLeft(plan)) return plan
  if (input.signature !== undefined) {
    const checked = dryRun(plan.right, input.signature)
    if (E.isLeft(checked)) return checked
  }
  return E.right({ plan: plan.right, image: raw.right })
}

/** The backend a task runs on, or why it is not available. @internal */
export const backendFor = async (input: TaskInput): Promise<E.Either<TtaError, Backend>> => {
  const chosen = input.execution.backend ?? 'js'
  try {
    return E.right(typeof chosen === 'string' ? await backendNamed(chosen) : chosen)
  } catch (e) {
    return E.left(paramError(`backend '${String(chosen)}' is not available: ${e instanceof Error ? e.message : String(e)}`))
  }
}

/** The model-calling effect of a task: the user's model on a batch, its output decoded. @internal */
export const modelCaller = (input: TaskInput, extra: readonly unknown[]) => async (batch: RawTensor): Promise<E.Either<TtaError, RawTensor>> => {
  const called = await callModel(input.model, assumeShape<Shape>(batch.shape, batch.data), extra, `chunk [${batch.shape.join(',')}]`)
  return E.flatMap(called, (out) => decodeOutput(out, input.outputKey, `chunk [${batch.shape.join(',')}]`))
}

/** The run's cancellation options, from the wrapper's. @internal */
export const cancelOf = (input: TaskInput): { timeout?: number; modelTimeout?: number; signal?: AbortSignal } => {
  const { timeout, modelTimeout, signal } = input.execution
  return { ...(timeout === undefined ? {} : { timeout }), ...(modelTimeout === undefined ? {} : { modelTimeout }), ...(signal === undefined ? {} : { signal }) }
}

/** Plans and runs one task, to the merged prediction (and uncertainty) before any policy calibration. @internal */
export const runRaw = async (input: TaskInput, image: Tensor<Shape>, extra: readonly unknown[]): Promise<E.Either<TtaError, RunResult>> => {
  const planned = planFor(input, image)
  if (E.isLeft(planned)) return planned
  const backend = await backendFor(input)
  if (E.isLeft(backend)) return backend
  // `run` turns anything user code throws inside the pipeline into a Left: it never rejects.
  return run(planned.right.plan, planned.right.image, {
    backend: backend.right,
    ...(input.onView === undefined ? {} : { onView: input.onView }),
    ...(input.pixelKeypoints === undefined ? {} : { pixelKeypoints: input.pixelKeypoints }),
    cancel: cancelOf(input),
    callModel: modelCaller(input, extra),
  })
}

/**
 * A run's result in the form the wrapper declares: the policy's output check and calibration, then
 * the prediction alone or with its uncertainty tensors. @internal
 */
export const finishTask = <O>(input: TaskInput, result: RunResult): E.Either<TtaError, O> => {
  let data = result.data
  if (input.policy !== undefined) {
    const classes = checkPolicyOutput(input.policy, result.shape)
    if (E.isLeft(classes)) return classes
    if (input.policy.calibration !== undefined) data = calibrate(data, voteLayout(result.shape), input.policy.calibration)
  }
  const prediction = assumeShape<Shape>(result.shape, data)
  const spread = result.uncertainty
  if (input.uncertainty === undefined || spread === undefined) return E.right(assumeOutcome<O>(prediction))
  const at = (values: Float32Array): Tensor<Shape> => assumeShape<Shape>(spread.shape, values)
  const { entropy, mutualInformation, variance, agreement } = spread.measures
  return E.right(assumeOutcome<O>({
    prediction,
    uncertainty: { entropy: at(entropy), mutualInformation: at(mutualInformation), variance: at(variance), agreement: at(agreement) },
  }))
}

/** Plans and runs one task; the result's type is the caller's to state. @internal */
export const runTask = async <O>(input: TaskInput, image: Tensor<Shape>, extra: readonly unknown[]): Promise<E.Either<TtaError, O>> =>
  E.flatMap(await runRaw(input, image, extra), (result) => finishTask<O>(input, result))
