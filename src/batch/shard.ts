/**
 * A shard — a few inputs of a run, or a range of a labelled set's images — processed by whoever holds
 * it: a thread of the in-process pool or a queue worker. Both keep the opened model of the last spec
 * they served (a worker usually serves one run, so a model is opened once, not once per shard) and
 * run the inputs through the same {@link fileRunner} / {@link evaluateShard} as a single-process run.
 * Node-only.
 *
 * @since 0.5.0
 */
import { resolve } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { LabelledSet } from '../eval/classify.js'
import * as onnx from '../backend/onnx.js'
import { removeStaleTemporaries, type OutputJob } from '../io/files.js'
import { openFileRunner, type InputOutcome, type OpenFileRunner } from './files-run.js'
import { evalOptionsOf, evaluateShard, loadLabelledSet, type PolicyCounts } from './eval-shards.js'
import { specId, type EvalSpec, type RunSpec } from './spec.js'

/** What a shard of a run asks for. @category model */
export interface RunShard {
  readonly spec: RunSpec
  readonly inputs: readonly OutputJob[]
}

/** What a shard of an evaluation asks for: images `[start, end)`. @category model */
export interface EvalShard {
  readonly spec: EvalSpec
  readonly start: number
  readonly end: number
}

/**
 * A shard that could not start: the worker cannot open the model or read the set. `retry` says
 * whether another worker might (a model or set this machine cannot see) or not (a model that does
 * not fit the task, a policy that does not parse).
 * @category model
 */
export interface ShardFailure {
  readonly reason: string
  readonly retry: boolean
}

interface OpenEval {
  readonly model: onnx.OnnxModel<readonly (number | string)[], Readonly<Record<string, readonly (number | string)[]>>>
  readonly set: LabelledSet
}

/**
 * Keeps the model (and, for an evaluation, the labelled set) of the last spec served, and opens the
 * next spec's when one arrives.
 * @category model
 */
export interface ShardCache {
  readonly run: (shard: RunShard, options?: ShardRunOptions) => Promise<E.Either<ShardFailure, readonly InputOutcome[]>>
  readonly evaluate: (shard: EvalShard) => Promise<E.Either<ShardFailure, readonly PolicyCounts[]>>
  readonly release: () => Promise<void>
}

/** How a run shard goes: which inputs to leave as they are, what to do after each input, when to stop. @category model */
export interface ShardRunOptions {
  /** Outcomes an earlier attempt of this shard recorded (by input index); those inputs are not run again. */
  readonly earlier?: ReadonlyMap<number, InputOutcome>
  /** Called after each input with its index and outcome (a worker's progress). */
  readonly onInput?: (index: number, outcome: InputOutcome) => Promise<void> | void
  /** Stops before the next input (a worker that lost its lock or is shutting down). */
  readonly signal?: AbortSignal
}

/** Is this failure one of the machine's (another may do better) rather than the spec's? */
const unreachable = (message: string): boolean => /ENOENT|EACCES|EPERM|EIO|ENOTDIR|no such file/i.test(message)

/**
 * A {@link ShardCache}: one per thread or worker process.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { shardCache } from 'tta-lens/queue'
 * const cache = shardCache()
 * const spec = { kind: 'run', version: '0.1.0', cwd: process.cwd(), model: 'missing.onnx', task: 'segmentation', policy: { tta: 'd4', label: 'd4' },
 *   merge: 'mean', backend: 'js', preprocess: { channels: 3 }, out: 'out', suffixes: ['.mask.png', '.mask.npy'], coordinates: 'pixels', force: false } as const
 * const result = await cache.run({ spec, inputs: [] })
 * assert.ok(E.isLeft(result) && result.left.retry && result.left.reason.startsWith('ModelError: cannot open'))
 * await cache.release()
 * @category constructors
 */
export const shardCache = (): ShardCache => {
  let current: { id: string; runner?: OpenFileRunner; evaluation?: OpenEval } | undefined
  const release = async (): Promise<void> => {
    const last = current
    current = undefined
    await last?.runner?.release()
    await last?.evaluation?.model.release()
  }
  return {
    release,
    run: async (shard, options = {}) => {
      const id = specId(shard.spec)
      if (current?.id !== id || current.runner === undefined) {
        await release()
        const opened = await openFileRunner(shard.spec)
        if (E.isLeft(opened)) {
          const reason = `${opened.left._tag}: ${opened.left.message}`
          return E.left({ reason, retry: opened.left._tag === 'ModelError' && unreachable(reason) })
        }
        current = { id, runner: opened.right }
        // Temporary files of a worker of this host killed in the middle of a write are removed, as a run does on start.
        await removeStaleTemporaries(resolve(shard.spec.cwd, shard.spec.out))
      }
      const runner = current.runner
      if (runner === undefined) return E.left({ reason: 'internal error: no runner', retry: true })
      const outcomes: InputOutcome[] = []
      for (const [index, job] of shard.inputs.entries()) {
        const before = options.earlier?.get(index)
        if (before !== undefined && !(before.status === 'failed' && before.retry)) {
          outcomes.push(before)
          continue
        }
        if (options.signal?.aborted === true) return E.left({ reason: `stopped: ${String(options.signal.reason ?? 'aborted')}`, retry: true })
        const outcome = await runner.run(job)
        outcomes.push(outcome)
        await options.onInput?.(index, outcome)
      }
      return E.right(outcomes)
    },
    evaluate: async (shard) => {
      const id = specId(shard.spec)
      const spec = shard.spec
      if (current?.id !== id || current.evaluation === undefined) {
        await release()
        const set = await loadLabelledSet(spec.source, spec.preprocess, () => undefined, spec.cwd)
        if (E.isLeft(set)) return E.left({ reason: set.left, retry: unreachable(set.left) })
        const model = await onnx.open(resolve(spec.cwd, spec.model), {
          ...(spec.outputName === undefined ? {} : { output: spec.outputName }),
          ...(spec.threads === undefined ? {} : { threads: spec.threads }),
        })()
        if (E.isLeft(model)) return E.left({ reason: `${model.left._tag}: ${model.left.message}`, retry: unreachable(model.left.message) })
        current = { id, evaluation: { model: model.right, set: set.right } }
      }
      const evaluation = current.evaluation
      if (evaluation === undefined) return E.left({ reason: 'internal error: no evaluation', retry: true })
      const counts = await evaluateShard(evaluation.model, evaluation.set, spec.policies, shard.start, shard.end, evalOptionsOf(spec))
      return E.isLeft(counts) ? E.left({ reason: `${counts.left._tag}: ${counts.left.message}`, retry: false }) : counts
    },
  }
}
