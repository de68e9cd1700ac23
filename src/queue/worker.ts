/**
 * A queue worker: takes shards from a tta-lens queue on Redis (BullMQ) and runs them through the same
 * runner as a single-process run, writing outputs with the same atomic-write and resume rules. Any
 * number of workers, on any machines that see the inputs and the output folder at the same paths,
 * can serve one queue. Node-only.
 *
 * What happens when things go wrong (docs/queue.md): a worker that dies holds its job's lock no
 * longer, BullMQ finds the job stalled and another worker runs it again (inputs already written are
 * skipped); an input the worker cannot see or write fails the job, which BullMQ retries up to the
 * producer's `attempts`; an input that is bad in itself (it does not decode) is reported at once and
 * never retried; a job made by another tta-lens version is failed, never run, and stops the worker.
 *
 * @since 0.5.0
 */
import { hostname } from 'node:os'
import * as E from 'fp-ts/lib/Either.js'
import { UnrecoverableError, Worker, type Job } from 'bullmq'
import { Redis } from 'ioredis'
import { packageVersion } from '../io/package.js'
import { decodeSpec, describeSpec } from '../batch/spec.js'
import { shardCache } from '../batch/shard.js'
import type { InputOutcome } from '../batch/files-run.js'
import { checkRedis, connectionOptions, parseRedisUrl, queueError, type QueueError } from './redis.js'
import { EvalJobData, RunJobData, decodeJob, defaultQueueName, earlierOutcomes, queuePrefix, runKey } from './jobs.js'

/** Something a worker did, for a log line or a test that waits on it. @category model */
export type WorkerEvent =
  | { readonly type: 'job-started'; readonly jobId: string; readonly inputs: number; readonly attempt: number }
  | { readonly type: 'input-done'; readonly jobId: string; readonly index: number; readonly outcome: InputOutcome }
  | { readonly type: 'job-finished'; readonly jobId: string; readonly ok: boolean; readonly reason?: string }
  | { readonly type: 'connection'; readonly message: string }

/** How a worker serves a queue. @category model */
export interface WorkerOptions {
  /** The queue's name (default `tta-lens`). */
  readonly queue?: string
  /** How long a job's lock lasts without renewal (ms); a worker that dies loses its job after this. Default 30,000. */
  readonly lockMs?: number
  /** How often stalled jobs are looked for (ms). Default: `lockMs`. */
  readonly stalledCheckMs?: number
  /** How often a job's progress (each input's outcome) is saved at most (ms). Default 1,000. */
  readonly progressMs?: number
  /** Called for each {@link WorkerEvent}; may return a promise, which the worker waits for. */
  readonly onEvent?: (event: WorkerEvent) => void | Promise<void>
}

/** Why a worker stopped. @category model */
export type WorkerStop = { readonly reason: 'closed' } | { readonly reason: 'version'; readonly error: QueueError }

/** A running worker. @category model */
export interface QueueWorker {
  /** This worker's name in job results: `host:pid`. */
  readonly name: string
  /** Stops taking jobs, lets the current one finish, and disconnects. */
  readonly close: () => Promise<void>
  /** Resolves when the worker has stopped, with the reason. */
  readonly stopped: Promise<WorkerStop>
  /** Jobs finished so far by this worker (completed or failed). */
  readonly jobsDone: () => number
}

const positive = (value: unknown, name: string): E.Either<QueueError, void> =>
  value === undefined || (typeof value === 'number' && Number.isInteger(value) && value > 0)
    ? E.right(undefined)
    : E.left(queueError('bad-option', `${name} must be a positive integer (milliseconds), got ${String(value)}`))

/**
 * Checks the queue's current run before taking any job: a run submitted by another tta-lens
 * version is refused in one line.
 */
const checkVersion = async (client: Redis, queue: string, shown: string, version: string): Promise<E.Either<QueueError, void>> => {
  const run = await client.hgetall(runKey(queue))
  if (run['version'] !== undefined && run['version'] !== version) {
    return E.left(queueError('version', `queue '${queue}' at ${shown} holds a ${run['description'] ?? 'run'}; this worker is tta-lens ${version}: start workers of the same version`))
  }
  return E.right(undefined)
}

/**
 * Starts a worker on a queue: checks Redis (one-line errors for an unreachable server or a wrong
 * password) and the queue's run version, then takes jobs until {@link QueueWorker.close}.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { runWorker } from 'tta-lens/queue'
 * const worker = await runWorker('redis://127.0.0.1:1')   // nothing listens on port 1
 * assert.ok(E.isLeft(worker) && worker.left.reason === 'unreachable')
 * @category constructors
 */
export const runWorker = async (url: string, options: WorkerOptions = {}): Promise<E.Either<QueueError, QueueWorker>> => {
  const target = parseRedisUrl(url)
  if (E.isLeft(target)) return target
  for (const [value, name] of [[options.lockMs, 'lockMs'], [options.stalledCheckMs, 'stalledCheckMs'], [options.progressMs, 'progressMs']] as const) {
    const ok = positive(value, name)
    if (E.isLeft(ok)) return ok
  }
  const checked = await checkRedis(target.right)
  if (E.isLeft(checked)) return checked
  const queue = options.queue ?? defaultQueueName
  const version = packageVersion()
  const probe = new Redis({ ...connectionOptions(target.right, { retry: false }), lazyConnect: true, maxRetriesPerRequest: 1 })
  probe.on('error', () => undefined)
  try {
    await probe.connect()
    const versionOk = await checkVersion(probe, queue, target.right.shown, version)
    if (E.isLeft(versionOk)) return versionOk
  } catch (e) {
    return E.left(queueError('unreachable', `cannot reach Redis at ${target.right.shown}: ${e instanceof Error ? e.message : String(e)}`))
  } finally {
    probe.disconnect()
  }

  const name = `${hostname()}:${process.pid}`
  const cache = shardCache()
  const progressMs = options.progressMs ?? 1000
  const emit = async (event: WorkerEvent): Promise<void> => { await options.onEvent?.(event) }
  let jobsDone = 0
  let stop: (why: WorkerStop) => void = () => undefined
  const stopped = new Promise<WorkerStop>((resolve) => { stop = resolve })
  let closing: Promise<void> | undefined

  const processRun = async (job: Job, signal: AbortSignal | undefined): Promise<unknown> => {
    const data = decodeJob(RunJobData, job.data, 'job data')
    if (E.isLeft(data)) throw new UnrecoverableError(data.left.message)
    const spec = decodeSpec(data.right.spec)
    if (E.isLeft(spec)) throw new UnrecoverableError(spec.left.message)
    if (spec.right.kind !== 'run') throw new UnrecoverableError('job data: a run job holds an eval spec')
    if (spec.right.version !== version) {
      void stopFor(spec.right.version, describeSpec(spec.right))
      throw new UnrecoverableError(`this job needs tta-lens ${spec.right.version}; worker ${name} runs tta-lens ${version}`)
    }
    const recorded = new Map(earlierOutcomes(job.progress))
    let saved = Date.now()
    const save = async (): Promise<void> => {
      saved = Date.now()
      await job.updateProgress({ outcomes: [...recorded.entries()] })
    }
    const result = await cache.run({ spec: spec.right, inputs: data.right.inputs }, {
      earlier: recorded,
      ...(signal === undefined ? {} : { signal }),
      onInput: async (index, outcome) => {
        recorded.set(index, outcome)
        await emit({ type: 'input-done', jobId: job.id ?? '', index, outcome })
        if (Date.now() - saved >= progressMs) await save()
      },
    })
    if (E.isLeft(result)) {
      if (recorded.size > 0) await save()
      throw result.left.retry ? new Error(result.left.reason) : new UnrecoverableError(result.left.reason)
    }
    const retry = result.right.flatMap((o, i) => (o.status === 'failed' && o.retry ? [`${data.right.inputs[i]?.input ?? i}: ${o.reason}`] : []))
    if (retry.length > 0) {
      await save()
      throw new Error(retry.join('; '))
    }
    return { outcomes: result.right, worker: name }
  }

  const processEval = async (job: Job): Promise<unknown> => {
    const data = decodeJob(EvalJobData, job.data, 'job data')
    if (E.isLeft(data)) throw new UnrecoverableError(data.left.message)
    const spec = decodeSpec(data.right.spec)
    if (E.isLeft(spec)) throw new UnrecoverableError(spec.left.message)
    if (spec.right.kind !== 'eval') throw new UnrecoverableError('job data: an eval job holds a run spec')
    if (spec.right.version !== version) {
      void stopFor(spec.right.version, describeSpec(spec.right))
      throw new UnrecoverableError(`this job needs tta-lens ${spec.right.version}; worker ${name} runs tta-lens ${version}`)
    }
    const counts = await cache.evaluate({ spec: spec.right, start: data.right.start, end: data.right.end })
    if (E.isLeft(counts)) throw counts.left.retry ? new Error(counts.left.reason) : new UnrecoverableError(counts.left.reason)
    return { counts: counts.right, worker: name }
  }

  const worker = new Worker(queue, async (job, _token, signal) => {
    const listed: unknown = Reflect.get(Object(job.data), 'inputs')
    const inputs = Array.isArray(listed) ? listed.length : 1
    await emit({ type: 'job-started', jobId: job.id ?? '', inputs, attempt: job.attemptsStarted })
    return job.name === 'eval' ? processEval(job) : processRun(job, signal)
  }, {
    connection: connectionOptions(target.right),
    prefix: queuePrefix,
    concurrency: 1,
    lockDuration: options.lockMs ?? 30_000,
    stalledInterval: options.stalledCheckMs ?? options.lockMs ?? 30_000,
    // A job whose worker died is run again once per attempt the producer allows, then failed.
    maxStalledCount: 2,
    autorun: false,
  })
  worker.on('completed', (job) => { jobsDone++; void emit({ type: 'job-finished', jobId: job.id ?? '', ok: true }) })
  worker.on('failed', (job, error) => { jobsDone++; void emit({ type: 'job-finished', jobId: job?.id ?? '', ok: false, reason: error.message }) })
  // A worker that can no longer renew a job's lock stops it before its next input: another worker has it by now.
  worker.on('lockRenewalFailed', (ids) => { for (const id of ids) worker.cancelJob(id, 'lost the lock on this job') })
  let lastConnectionMessage = 0
  worker.on('error', (e) => {
    // Redis away (a restart): ioredis reconnects by itself; say so at most every 5 s.
    if (Date.now() - lastConnectionMessage > 5000) {
      lastConnectionMessage = Date.now()
      void emit({ type: 'connection', message: `worker ${name}: ${e.message}; retrying` })
    }
  })

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await worker.close()
      await cache.release()
      stop({ reason: 'closed' })
    })()
    return closing
  }
  const stopFor = async (jobVersion: string, description: string): Promise<void> => {
    const error = queueError('version', `queue '${queue}' at ${target.right.shown} holds a ${description.replace(/ \(tta-lens [^)]*\)$/, '')} made by tta-lens ${jobVersion}; this worker is tta-lens ${version}: start workers of the same version`)
    // Let the failing job be recorded before closing.
    setTimeout(() => { void (async () => { await worker.close(); await cache.release(); stop({ reason: 'version', error }) })() }, 0)
  }
  void worker.run().catch((e: unknown) => { void emit({ type: 'connection', message: `worker ${name}: ${e instanceof Error ? e.message : String(e)}` }) })
  return E.right({ name, close, stopped, jobsDone: () => jobsDone })
}
