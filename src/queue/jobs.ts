/**
 * The jobs on a tta-lens queue, as data: their ids (from the run's spec and the shard's inputs, so
 * that two producers of one run make the same jobs), what a job carries (the whole spec, so that a
 * worker needs nothing else), what a worker records as it goes (each input's outcome, so that a
 * retry does not redo finished inputs) and what it returns. Everything read back from Redis is
 * decoded with io-ts. Node-only.
 *
 * @since 0.5.0
 */
import { createHash } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import * as t from 'io-ts'
import { decodeWith, strictObject } from '../guard/decode.js'
import type { ParamError } from '../errors.js'
import type { InputOutcome } from '../batch/files-run.js'
import type { PolicyCounts } from '../batch/eval-shards.js'

/** The Redis key prefix of every tta-lens queue (BullMQ's default is `bull`). @category utils */
export const queuePrefix = 'tta-lens'
/** The queue name used when none is given. @category utils */
export const defaultQueueName = 'tta-lens'

/** The key of the hash that names the run a queue serves (its spec id, version and description). @internal */
export const runKey = (queue: string): string => `${queuePrefix}:${queue}:tta-lens-run`

const OutputJobCodec = strictObject('input', { input: t.string, outputs: t.array(t.string) }, {})

/** A run shard's job data. @internal */
export const RunJobData = strictObject('run job', { specId: t.string, spec: t.unknown, inputs: t.array(OutputJobCodec) }, {})
/** An evaluation shard's job data. @internal */
export const EvalJobData = strictObject('eval job', { specId: t.string, spec: t.unknown, start: t.number, end: t.number }, {})

const OutcomeCodec: t.Type<InputOutcome, unknown, unknown> = t.union([
  t.type({ status: t.literal('written') }),
  t.type({ status: t.literal('skipped') }),
  t.type({ status: t.literal('failed'), reason: t.string, retry: t.boolean }),
])

/** What a worker records in a run job's progress: the outcome of each input it finished, by index. @internal */
export const RunProgress = t.type({ outcomes: t.array(t.tuple([t.number, OutcomeCodec])) })
/** What a run job returns. @internal */
export const RunResult = t.type({ outcomes: t.array(OutcomeCodec), worker: t.string })
/** What an evaluation job returns. @internal */
export const EvalResult = t.type({
  counts: t.array(t.type({ policy: t.string, views: t.number, correct: t.number, total: t.number, fixed: t.number, broken: t.number, ms: t.number })),
  worker: t.string,
})
/** @internal */
export type EvalResult = { readonly counts: readonly PolicyCounts[]; readonly worker: string }

/**
 * The id of a shard's job: the spec's id and a hash of what the shard holds. The same run submitted
 * twice (two producers, a rerun) makes the same ids, and BullMQ keeps one job per id.
 * @example
 * import { shardJobId } from 'tta-lens/queue'
 * assert.strictEqual(shardJobId('0123456789abcdef', ['a.png', 'b.png']), shardJobId('0123456789abcdef', ['a.png', 'b.png']))
 * assert.match(shardJobId('0123456789abcdef', ['a.png']), /^0123456789abcdef-[0-9a-f]{16}$/)
 * @category utils
 */
export const shardJobId = (specId: string, content: readonly (string | number)[]): string =>
  `${specId}-${createHash('sha256').update(JSON.stringify(content)).digest('hex').slice(0, 16)}`

/** The outcomes a job's progress holds, by input index; an empty map for anything else. @internal */
export const earlierOutcomes = (progress: unknown): ReadonlyMap<number, InputOutcome> => {
  const decoded = RunProgress.decode(progress)
  return E.isRight(decoded) ? new Map(decoded.right.outcomes) : new Map()
}

/** Decodes job data or a return value read back from Redis. @internal */
export const decodeJob = <A>(codec: t.Type<A, unknown, unknown>, value: unknown, what: string): E.Either<ParamError, A> => decodeWith(codec, value, what)
