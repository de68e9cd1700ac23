/**
 * `tta-lens/queue`: TTA over many files on many cores and many machines. Node-only.
 *
 * - **A job queue on Redis** (BullMQ): {@link submitRun} / {@link submitEval} split a run or an
 *   evaluation into shards on a named queue and wait while workers finish them; {@link runWorker}
 *   serves a queue, on any machine that sees the inputs and the output folder. The rules on retries,
 *   stalled workers and what "exactly once" means are in docs/queue.md.
 * - **A thread pool** ({@link shardPool}) for all cores of one machine without Redis.
 * - The pieces both share with a single-process run: the run and eval specs, the file runner (with
 *   the detection settings and head it runs `-t detection` with) and the shard counts that merge
 *   into the evaluation table.
 *
 * The core (`tta-lens`) never learns that it runs distributed: every path runs the same plan.
 *
 * @packageDocumentation
 * @module tta-lens/queue
 */
export { RunSpec, EvalSpec, type BatchSpec, specId, decodeSpec, describeSpec } from '../batch/spec.js'
export type { Preprocess } from '../io/image.js'
export { fileRunner, openFileRunner, outputSuffixes, type FileRunner, type OpenFileRunner, type FileRunSettings, type FileTask, type InputOutcome } from '../batch/files-run.js'
export { DetectionSettingsCodec, checkDetectionViews, detectionHead, detectionPredictor, type DetectionSettings, type HeadModel, type DetectionPredict } from '../batch/detection-files.js'
export { loadLabelledSet, evaluateShard, mergeShardCounts, imageExtensions, type SetSource, type PolicyCounts, type PolicyRow } from '../batch/eval-shards.js'
export { shardCache, type ShardCache, type ShardRunOptions, type ShardFailure, type RunShard, type EvalShard } from '../batch/shard.js'
export { shardPool, type ShardPool } from '../batch/pool.js'
export type { PoolTask, PoolAnswer } from '../batch/pool-worker.js'
export { parseRedisUrl, checkRedis, queueError, type QueueError, type RedisTarget } from './redis.js'
export { shardJobId, queuePrefix, defaultQueueName } from './jobs.js'
export { runWorker, type QueueWorker, type WorkerOptions, type WorkerEvent, type WorkerStop } from './worker.js'
export { submitRun, submitEval, type SubmitOptions, type JobCounts, type RunReport, type EvalReport } from './producer.js'
export { clearQueue, queueStatus, type QueueStatus } from './admin.js'
