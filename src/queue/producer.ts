/**
 * The producer side of a queue run: splits a run's inputs (or an evaluation's images) into shards,
 * puts one BullMQ job per shard on the queue, and waits while workers finish them, reporting
 * progress; then says, per input, what happened — written, failed (with the reason and the
 * attempts), or still pending — and checks that every output it counts is on disk. Node-only.
 *
 * The rules (docs/queue.md): one run per queue at a time (a queue holding unfinished jobs of another
 * run or tta-lens version is refused); a shard's job id comes from the run and the shard's inputs,
 * so two producers of the same run share jobs instead of doubling the work, and a rerun after a
 * failure or a lost Redis retries the same jobs; a producer that loses Redis for longer than it is
 * told to wait stops and lists what is pending.
 *
 * @since 0.5.0
 */
import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { Job, Queue, QueueEvents } from 'bullmq'
import { Redis } from 'ioredis'
import { packageVersion } from '../io/package.js'
import type { OutputJob } from '../io/files.js'
import { describeSpec, specId, type EvalSpec, type RunSpec } from '../batch/spec.js'
import { mergeShardCounts, type PolicyCounts, type PolicyRow } from '../batch/eval-shards.js'
import type { InputOutcome } from '../batch/files-run.js'
import { checkRedis, connectionOptions, parseRedisUrl, queueError, type QueueError, type RedisTarget } from './redis.js'
import { EvalResult, RunResult, decodeJob, defaultQueueName, earlierOutcomes, queuePrefix, runKey, shardJobId } from './jobs.js'

/** How a producer submits and waits. @category model */
export interface SubmitOptions {
  /** The queue's name (default `tta-lens`). */
  readonly queue?: string
  /** Inputs (run) or images (eval) per job. Default 16 for a run, 500 for an evaluation. */
  readonly shardSize?: number
  /** Tries per job before it is failed (a worker's own failures: inputs it cannot see or write, a crash). Default 3. */
  readonly attempts?: number
  /** Wait before a failed job is tried again (ms, doubling each time). Default 1,000. */
  readonly backoffMs?: number
  /** How long Redis may be unreachable before the producer stops waiting and lists what is pending (ms). Default 60,000. */
  readonly redisTimeoutMs?: number
  /** How often job states are read back besides the events (ms). Default 5,000. */
  readonly reconcileMs?: number
  /** Called when jobs finish: inputs (or images) done so far and in all. */
  readonly onProgress?: (done: number, total: number) => void
  /** Called with a line worth showing (waiting for Redis, jobs already queued by another producer). */
  readonly onNotice?: (line: string) => void
}

/** Job counts of one submission. @category model */
export interface JobCounts {
  /** Jobs this run needs (shards with work left). */
  readonly submitted: number
  /** Of those, jobs that were already on the queue (another producer of the same run, or an earlier try) and were joined. */
  readonly joined: number
  readonly completed: number
  readonly failed: number
  /** Extra starts: a job started 3 times counts 2 (a stalled worker or a failed attempt). */
  readonly retried: number
  /** Jobs neither completed nor failed when the producer stopped waiting (Redis gone for too long, or their jobs vanished). */
  readonly pending: number
}

/** What a queue run did, per input. @category model */
export interface RunReport {
  readonly queue: string
  readonly jobs: JobCounts
  /** Inputs whose outputs this run wrote (by any worker, in any attempt). */
  readonly written: readonly string[]
  readonly failed: readonly { readonly input: string; readonly reason: string; readonly attempts: number }[]
  /** Inputs not finished when the producer stopped waiting; a rerun finishes them. */
  readonly pending: readonly string[]
  /** Inputs counted as written whose outputs are not all on disk (should be none). */
  readonly lost: readonly string[]
  /** Why the producer stopped before every job finished, if it did. */
  readonly stoppedEarly?: string
}

/** What a queue evaluation did. @category model */
export interface EvalReport {
  readonly queue: string
  readonly jobs: JobCounts
  /** The merged table; absent when a shard failed or is pending. */
  readonly rows?: readonly PolicyRow[]
  readonly failed: readonly { readonly images: readonly [number, number]; readonly reason: string; readonly attempts: number }[]
  readonly pending: readonly (readonly [number, number])[]
  readonly stoppedEarly?: string
}

interface Shard<D> {
  readonly id: string
  readonly name: 'run' | 'eval'
  readonly data: D
  readonly size: number
}

interface Finished {
  readonly state: 'completed' | 'failed'
  readonly returnvalue: unknown
  readonly progress: unknown
  readonly failedReason: string
  readonly attempts: number
}

interface Waited {
  readonly finished: ReadonlyMap<string, Finished>
  readonly starts: ReadonlyMap<string, number>
  readonly joined: number
  readonly stoppedEarly?: string
}

const unfinishedStates = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'] as const

const checkOptions = (o: SubmitOptions): E.Either<QueueError, void> => {
  for (const key of ['shardSize', 'attempts', 'backoffMs', 'redisTimeoutMs', 'reconcileMs'] as const) {
    const v = o[key]
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) return E.left(queueError('bad-option', `${key} must be a positive integer, got ${String(v)}`))
  }
  if (o.queue !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(o.queue)) return E.left(queueError('bad-option', `the queue name must be 1–100 letters, digits, '.', '_' or '-', got '${o.queue}'`))
  return E.right(undefined)
}

/**
 * Connects, refuses a queue that holds another run's unfinished jobs, records this run as the
 * queue's, submits the shards that need work (joining jobs that exist) and waits for them.
 */
const submitAndWait = async <D>(
  url: string,
  spec: RunSpec | EvalSpec,
  shards: readonly Shard<D>[],
  options: SubmitOptions,
): Promise<E.Either<QueueError, Waited>> => {
  const checkedOptions = checkOptions(options)
  if (E.isLeft(checkedOptions)) return checkedOptions
  const parsed = parseRedisUrl(url)
  if (E.isLeft(parsed)) return parsed
  const target: RedisTarget = parsed.right
  const reachable = await checkRedis(target)
  if (E.isLeft(reachable)) return reachable
  const name = options.queue ?? defaultQueueName
  const id = specId(spec)
  const connection = connectionOptions(target)
  const queue = new Queue(name, { connection, prefix: queuePrefix })
  const events = new QueueEvents(name, { connection, prefix: queuePrefix })
  // A connection of our own for the run's record and for watching whether Redis is there.
  const client = new Redis({ ...connection })
  queue.on('error', () => undefined)
  events.on('error', () => undefined)
  client.on('error', () => undefined)
  try {
    // One run per queue: another run's unfinished jobs would mix two policies (or versions) in one output folder.
    const unfinished = await queue.getJobs([...unfinishedStates], 0, 99)
    const foreign = unfinished.find((j) => Reflect.get(Object(j.data), 'specId') !== id)
    if (foreign !== undefined) {
      const other = await client.hgetall(runKey(name))
      const description = other['description'] ?? 'another run'
      const otherVersion = other['version']
      const reason = otherVersion !== undefined && otherVersion !== spec.version ? 'version' : 'foreign-run'
      return E.left(queueError(reason, `queue '${name}' at ${target.shown} holds unfinished jobs of another run (${description}); let its workers finish, clear it with \`tta-lens queue clear\`, or pass --queue-name`))
    }
    await client.hset(runKey(name), { version: packageVersion(), specId: id, description: describeSpec(spec) })
    await events.waitUntilReady()

    const ids = new Set(shards.map((s) => s.id))
    const finished = new Map<string, Finished>()
    const starts = new Map<string, number>()
    let joined = 0
    const attempts = options.attempts ?? 3
    const backoff = { type: 'exponential', delay: options.backoffMs ?? 1000 }
    const fresh: Shard<D>[] = []
    for (const shard of shards) {
      const existing = await Job.fromId(queue, shard.id)
      if (existing === undefined) {
        fresh.push(shard)
        continue
      }
      const state = await existing.getState()
      if (state === 'completed' || state === 'failed') {
        // A finished job whose shard has work left (outputs deleted since, a failure to try again): run it again, with fresh attempts.
        await existing.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => undefined)
      }
      joined++
    }
    if (joined > 0) options.onNotice?.(`${joined} of ${shards.length} jobs were already on queue '${name}' (another producer of this run, or an earlier try); joining them`)
    if (fresh.length > 0) {
      await queue.addBulk(fresh.map((s) => ({
        name: s.name,
        data: s.data,
        opts: { jobId: s.id, attempts, backoff, removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 7 * 24 * 3600 } },
      })))
    }

    const total = shards.reduce((s, x) => s + x.size, 0)
    const sizeOf = new Map(shards.map((s) => [s.id, s.size]))
    const partial = new Map<string, number>()
    const report = (): void => {
      let done = 0
      for (const [jobId, size] of sizeOf) done += finished.has(jobId) ? size : Math.min(size, partial.get(jobId) ?? 0)
      options.onProgress?.(done, total)
    }
    report()

    let wake: () => void = () => undefined
    const look = new Set<string>()
    const nudge = (jobId: string): void => {
      if (!ids.has(jobId) || finished.has(jobId)) return
      look.add(jobId)
      wake()
    }
    events.on('completed', ({ jobId }) => nudge(jobId))
    events.on('failed', ({ jobId }) => nudge(jobId))
    events.on('progress', ({ jobId, data }) => {
      if (!ids.has(jobId)) return
      partial.set(jobId, earlierOutcomes(data).size)
      report()
    })

    let downSince: number | undefined
    let wasDown = false
    client.on('close', () => { downSince ??= Date.now(); wasDown = true; wake() })
    client.on('ready', () => { downSince = undefined; wake() })

    const check = async (jobIds: Iterable<string>): Promise<string[]> => {
      const vanished: string[] = []
      for (const jobId of jobIds) {
        if (finished.has(jobId)) continue
        const job = await Job.fromId(queue, jobId)
        if (job === undefined) { vanished.push(jobId); continue }
        starts.set(jobId, job.attemptsStarted)
        const state = await job.getState()
        if (state === 'completed' || state === 'failed') {
          finished.set(jobId, { state, returnvalue: job.returnvalue, progress: job.progress, failedReason: job.failedReason ?? '', attempts: job.attemptsStarted })
        }
      }
      return vanished
    }

    const reconcileMs = options.reconcileMs ?? 5000
    const redisTimeoutMs = options.redisTimeoutMs ?? 60_000
    let lastReconcile = 0
    let noticedDown = false
    for (;;) {
      if (finished.size === ids.size) break
      const now = Date.now()
      if (downSince !== undefined) {
        if (!noticedDown) { noticedDown = true; options.onNotice?.(`lost Redis at ${target.shown}; waiting up to ${Math.round(redisTimeoutMs / 1000)} s for it to come back`) }
        if (now - downSince > redisTimeoutMs) return E.right({ finished, starts, joined, stoppedEarly: `Redis at ${target.shown} was unreachable for more than ${Math.round(redisTimeoutMs / 1000)} s` })
      } else {
        try {
          if (wasDown) { noticedDown = false; options.onNotice?.(`Redis at ${target.shown} is back`) }
          const everything = wasDown || now - lastReconcile >= reconcileMs
          wasDown = false
          const batch = everything ? [...ids] : [...look]
          look.clear()
          if (everything) lastReconcile = now
          const vanished = await check(batch)
          report()
          if (vanished.length > 0 && everything) {
            return E.right({ finished, starts, joined, stoppedEarly: `${vanished.length} job${vanished.length === 1 ? '' : 's'} vanished from queue '${name}' (Redis restarted without persistence, or the queue was cleared)` })
          }
        } catch {
          // Redis went away in the middle of a look: the connection events say when it is back.
          wasDown = true
        }
      }
      if (finished.size === ids.size) break
      await new Promise<void>((r) => { wake = r; setTimeout(r, Math.min(250, reconcileMs)) })
    }
    return E.right({ finished, starts, joined })
  } catch (e) {
    return E.left(queueError('unreachable', `queue '${name}' at ${target.shown}: ${e instanceof Error ? e.message : String(e)}`))
  } finally {
    // Closing must not wait on a Redis that is gone.
    await Promise.race([Promise.allSettled([events.close(), queue.close()]), new Promise((r) => setTimeout(r, 2000))])
    await queue.disconnect().catch(() => undefined)
    await events.disconnect().catch(() => undefined)
    client.disconnect()
  }
}

const counts = (shards: readonly { readonly id: string }[], waited: Waited): JobCounts => {
  let completed = 0
  let failed = 0
  let retried = 0
  for (const s of shards) {
    const f = waited.finished.get(s.id)
    if (f?.state === 'completed') completed++
    if (f?.state === 'failed') failed++
    retried += Math.max(0, (f?.attempts ?? waited.starts.get(s.id) ?? 0) - 1)
  }
  return { submitted: shards.length, joined: waited.joined, completed, failed, retried, pending: shards.length - completed - failed }
}

const outputsExist = async (outputs: readonly string[], cwd: string): Promise<boolean> => {
  for (const o of outputs) {
    const ok = await stat(resolve(cwd, o)).then((s) => s.isFile(), () => false)
    if (!ok) return false
  }
  return true
}

/**
 * Submits a run's inputs as jobs and waits for workers: `jobs` are every planned input of the run
 * (in order; shards and their ids come from them), `todo` the inputs whose outputs are missing (or
 * all of them with `force`). Inputs outside `todo` are skipped by the workers' resume rule.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { submitRun } from 'tta-lens/queue'
 * const spec = { kind: 'run', version: '0.1.0', cwd: process.cwd(), model: 'm.onnx', task: 'segmentation', policy: { tta: 'd4', label: 'd4' },
 *   merge: 'mean', backend: 'js', preprocess: { channels: 3 }, out: 'out', suffixes: ['.mask.png', '.mask.npy'], coordinates: 'pixels', force: false } as const
 * const report = await submitRun('redis://127.0.0.1:1', spec, [{ input: 'a.png', outputs: ['out/a.mask.png', 'out/a.mask.npy'] }], new Set(['a.png']))
 * assert.ok(E.isLeft(report) && report.left.message.startsWith('cannot reach Redis at redis://127.0.0.1:1'))
 * @category constructors
 */
export const submitRun = async (url: string, spec: RunSpec, jobs: readonly OutputJob[], todo: ReadonlySet<string>, options: SubmitOptions = {}): Promise<E.Either<QueueError, RunReport>> => {
  const id = specId(spec)
  const size = options.shardSize ?? 16
  const all: { inputs: OutputJob[] }[] = []
  for (let k = 0; k < jobs.length; k += size) all.push({ inputs: jobs.slice(k, k + size) })
  const shards = all
    .filter((s) => s.inputs.some((j) => todo.has(j.input)))
    .map((s) => ({ id: shardJobId(id, s.inputs.map((j) => j.input)), name: 'run' as const, data: { specId: id, spec, inputs: s.inputs }, size: s.inputs.filter((j) => todo.has(j.input)).length }))
  const waited = await submitAndWait(url, spec, shards, options)
  if (E.isLeft(waited)) return waited
  const written: string[] = []
  const failed: { input: string; reason: string; attempts: number }[] = []
  const pending: string[] = []
  const lost: string[] = []
  for (const shard of shards) {
    const f = waited.right.finished.get(shard.id)
    let outcomes: ReadonlyMap<number, InputOutcome> = new Map()
    if (f?.state === 'completed') {
      const result = decodeJob(RunResult, f.returnvalue, 'job result')
      if (E.isRight(result)) outcomes = new Map(result.right.outcomes.map((o, i) => [i, o]))
    } else if (f?.state === 'failed') {
      outcomes = earlierOutcomes(f.progress)
    }
    for (const [i, job] of shard.data.inputs.entries()) {
      if (!todo.has(job.input)) continue
      const o = outcomes.get(i)
      if (o?.status === 'written' || o?.status === 'skipped') {
        written.push(job.input)
        if (!(await outputsExist(job.outputs, spec.cwd))) lost.push(job.input)
      } else if (o?.status === 'failed' && !(o.retry && f?.state !== 'failed')) {
        failed.push({ input: job.input, reason: o.reason, attempts: f?.attempts ?? 1 })
      } else if (f?.state === 'failed') {
        failed.push({ input: job.input, reason: f.failedReason, attempts: f.attempts })
      } else if (await outputsExist(job.outputs, spec.cwd)) {
        // Written by a worker that has not reported yet (Redis went away): on disk and complete, so not pending.
        written.push(job.input)
      } else {
        pending.push(job.input)
      }
    }
  }
  return E.right({
    queue: options.queue ?? defaultQueueName,
    jobs: counts(shards, waited.right),
    written, failed, pending, lost,
    ...(waited.right.stoppedEarly === undefined ? {} : { stoppedEarly: waited.right.stoppedEarly }),
  })
}

/**
 * Submits an evaluation of `images` labelled images as jobs of image ranges and waits; the merged
 * table is the one a single-process `eval` prints.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { submitEval } from 'tta-lens/queue'
 * const spec = { kind: 'eval', version: '0.1.0', cwd: process.cwd(), model: 'm.onnx', merge: 'mean', backend: 'js',
 *   preprocess: { channels: 1 }, policies: ['none', 'hflip'], source: { folder: 'set' }, batch: 500 } as const
 * const report = await submitEval('redis://127.0.0.1:1', spec, 100)
 * assert.ok(E.isLeft(report) && report.left.reason === 'unreachable')
 * @category constructors
 */
export const submitEval = async (url: string, spec: EvalSpec, images: number, options: SubmitOptions = {}): Promise<E.Either<QueueError, EvalReport>> => {
  const id = specId(spec)
  const size = options.shardSize ?? 500
  const shards: Shard<{ specId: string; spec: EvalSpec; start: number; end: number }>[] = []
  for (let start = 0; start < images; start += size) {
    const end = Math.min(images, start + size)
    shards.push({ id: shardJobId(id, [start, end]), name: 'eval', data: { specId: id, spec, start, end }, size: end - start })
  }
  const waited = await submitAndWait(url, spec, shards, options)
  if (E.isLeft(waited)) return waited
  const results: (readonly PolicyCounts[])[] = []
  const failed: { images: readonly [number, number]; reason: string; attempts: number }[] = []
  const pending: (readonly [number, number])[] = []
  for (const shard of shards) {
    const f = waited.right.finished.get(shard.id)
    const range = [shard.data.start, shard.data.end] as const
    if (f?.state === 'completed') {
      const result = decodeJob(EvalResult, f.returnvalue, 'job result')
      if (E.isRight(result)) results.push(result.right.counts)
      else failed.push({ images: range, reason: result.left.message, attempts: f.attempts })
    } else if (f?.state === 'failed') {
      failed.push({ images: range, reason: f.failedReason, attempts: f.attempts })
    } else {
      pending.push(range)
    }
  }
  const merged = failed.length === 0 && pending.length === 0 ? mergeShardCounts(results) : undefined
  return E.right({
    queue: options.queue ?? defaultQueueName,
    jobs: counts(shards, waited.right),
    ...(merged !== undefined && E.isRight(merged) ? { rows: merged.right } : {}),
    failed, pending,
    ...(waited.right.stoppedEarly === undefined ? {} : { stoppedEarly: waited.right.stoppedEarly }),
  })
}
