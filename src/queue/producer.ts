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
import { Job, Queue } from 'bullmq'
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
  /** How often job states are read back (ms); one pipelined round trip each. Default 500. */
  readonly pollMs?: number
  /** Called when jobs finish: inputs (or images) done so far and in all. */
  readonly onProgress?: (done: number, total: number) => void
  /** Called with a line worth showing (waiting for Redis, jobs already queued by another producer). */
  readonly onNotice?: (line: string) => void
  /** Called once the jobs are on the queue and the run is recorded as the queue's (a moment to start local workers). */
  readonly onSubmitted?: () => void
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

/** Pending job ids checked per ZMSCORE / EXISTS command, so that no one command grows with the run. */
const CHECK_SLICE = 5000

const checkOptions = (o: SubmitOptions): E.Either<QueueError, void> => {
  for (const key of ['shardSize', 'attempts', 'backoffMs', 'redisTimeoutMs', 'pollMs'] as const) {
    const v = o[key]
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) return E.left(queueError('bad-option', `${key} must be a positive integer, got ${String(v)}`))
  }
  if (o.queue !== undefined && !/^[A-Za-z0-9._-]{1,100}$/.test(o.queue)) return E.left(queueError('bad-option', `the queue name must be 1–100 letters, digits, '.', '_' or '-', got '${o.queue}'`))
  return E.right(undefined)
}

/**
 * Connects, refuses a queue that holds another run's unfinished jobs, records this run as the
 * queue's, submits the shards that need work (joining jobs that exist) and waits for them. Every
 * `pollMs` the producer asks which pending jobs finished in one pipelined round trip (ioredis
 * auto-pipelining) of a few set lookups, and reads only the jobs that finished or are running.
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
  // One connection of our own, shared by the queue: we decide when it closes, even with Redis gone.
  const client = new Redis({ ...connectionOptions(target), enableAutoPipelining: true })
  client.on('error', () => undefined)
  const queue = new Queue(name, { connection: client, prefix: queuePrefix })
  queue.on('error', () => undefined)
  let downSince: number | undefined
  let wasDown = false
  let wake: () => void = () => undefined
  client.on('close', () => { downSince ??= Date.now(); wasDown = true; wake() })
  client.on('ready', () => { downSince = undefined; wake() })
  try {
    // One run per queue: another run's unfinished jobs would mix two policies (or versions) in one output folder.
    const unfinished = await queue.getJobs([...unfinishedStates], 0, 99)
    const foreign = unfinished.find((j) => Reflect.get(Object(j.data), 'specId') !== id)
    if (foreign !== undefined) {
      const other = await client.hgetall(runKey(name))
      const description = other['description'] ?? 'another run'
      const otherVersion = other['version']
      if (otherVersion !== undefined && otherVersion !== spec.version) {
        return E.left(queueError('version', `queue '${name}' at ${target.shown} holds unfinished jobs of tta-lens ${otherVersion} (${description}); this is tta-lens ${spec.version}: let them finish with workers of that version, or clear the queue with \`tta-lens queue clear\``))
      }
      return E.left(queueError('foreign-run', `queue '${name}' at ${target.shown} holds unfinished jobs of another run (${description}); let its workers finish, clear it with \`tta-lens queue clear\`, or pass --queue-name`))
    }
    await client.hset(runKey(name), { version: packageVersion(), specId: id, description: describeSpec(spec) })

    const ids = new Set(shards.map((s) => s.id))
    const finished = new Map<string, Finished>()
    const starts = new Map<string, number>()
    let joined = 0
    const attempts = options.attempts ?? 3
    const backoff = { type: 'exponential', delay: options.backoffMs ?? 1000 }
    const fresh: Shard<D>[] = []
    // Which shards are on the queue already: one EXISTS per shard, pipelined (auto-pipelining), not a round trip each.
    const onQueue = await Promise.all(shards.map((shard) => client.exists(queue.toKey(shard.id))))
    for (const [k, shard] of shards.entries()) {
      const existing = onQueue[k] === 1 ? await Job.fromId(queue, shard.id) : undefined
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

    options.onSubmitted?.()
    const total = shards.reduce((s, x) => s + x.size, 0)
    const partial = new Map<string, number>()
    const report = (): void => {
      let done = 0
      for (const s of shards) done += finished.has(s.id) ? s.size : Math.min(s.size, partial.get(s.id) ?? 0)
      options.onProgress?.(done, total)
    }

    /**
     * One look at the pending jobs, at a cost that does not grow with the run: which of them are in
     * BullMQ's completed and failed sets and whether their job hashes still exist (ZMSCORE and
     * EXISTS over the ids, a few commands per 5,000 jobs), and which are active (LRANGE); then only
     * the jobs that finished since the last look, and the active ones, are read (once each). Asking
     * every pending job for its state each poll cost a script call per job and poll — over 100 Redis
     * calls per image on a 2,000-image run, and quadratic in the number of jobs.
     */
    const look = async (): Promise<number> => {
      const pending = [...ids].filter((jobId) => !finished.has(jobId))
      if (pending.length === 0) return 0
      const slices: string[][] = []
      for (let k = 0; k < pending.length; k += CHECK_SLICE) slices.push(pending.slice(k, k + CHECK_SLICE))
      const [completedScores, failedScores, existing, active] = await Promise.all([
        Promise.all(slices.map((slice) => client.zmscore(queue.keys['completed'] ?? '', ...slice))),
        Promise.all(slices.map((slice) => client.zmscore(queue.keys['failed'] ?? '', ...slice))),
        Promise.all(slices.map((slice) => client.exists(...slice.map((jobId) => queue.toKey(jobId))))),
        client.lrange(queue.keys['active'] ?? '', 0, -1),
      ])
      const completed = completedScores.flat()
      const failed = failedScores.flat()
      const ended = new Map<string, 'completed' | 'failed'>()
      for (const [k, jobId] of pending.entries()) {
        if (completed[k] !== null && completed[k] !== undefined) ended.set(jobId, 'completed')
        else if (failed[k] !== null && failed[k] !== undefined) ended.set(jobId, 'failed')
      }
      const vanished = pending.length - existing.reduce((sum, n) => sum + n, 0)
      const running = [...new Set(active)].filter((jobId) => ids.has(jobId) && !finished.has(jobId) && !ended.has(jobId))
      const open = [...ended.keys(), ...running]
      const jobs = await Promise.all(open.map((jobId) => Job.fromId(queue, jobId)))
      for (const [k, job] of jobs.entries()) {
        const jobId = open[k] ?? ''
        if (job === undefined) continue
        starts.set(jobId, job.attemptsStarted)
        const state = ended.get(jobId)
        if (state !== undefined) {
          finished.set(jobId, { state, returnvalue: job.returnvalue, progress: job.progress, failedReason: job.failedReason ?? '', attempts: job.attemptsStarted })
        } else {
          partial.set(jobId, earlierOutcomes(job.progress).size)
        }
      }
      report()
      return vanished
    }

    const pollMs = options.pollMs ?? 500
    const redisTimeoutMs = options.redisTimeoutMs ?? 60_000
    const lostFor = (): string => `Redis at ${target.shown} was unreachable for more than ${Math.round(redisTimeoutMs / 1000)} s`
    // Resolves when Redis has been away for longer than the producer waits.
    let giveUp: () => void = () => undefined
    const gaveUp = new Promise<'gave-up'>((resolve) => { giveUp = () => resolve('gave-up') })
    const watchdog = setInterval(() => { if (downSince !== undefined && Date.now() - downSince > redisTimeoutMs) giveUp() }, 100)
    let noticed = false
    try {
      for (;;) {
        if (downSince !== undefined && !noticed) {
          noticed = true
          options.onNotice?.(`lost Redis at ${target.shown}; waiting up to ${Math.round(redisTimeoutMs / 1000)} s for it to come back`)
        }
        if (downSince === undefined && wasDown) {
          wasDown = false
          if (noticed) options.onNotice?.(`Redis at ${target.shown} is back`)
          noticed = false
        }
        const looked = downSince !== undefined ? undefined : await Promise.race([look().catch(() => -1), gaveUp])
        if (looked === 'gave-up') return E.right({ finished, starts, joined, stoppedEarly: lostFor() })
        if (typeof looked === 'number' && looked > 0) {
          return E.right({ finished, starts, joined, stoppedEarly: `${looked} job${looked === 1 ? '' : 's'} vanished from queue '${name}' (Redis restarted without persistence, or the queue was cleared)` })
        }
        if (finished.size === ids.size) return E.right({ finished, starts, joined })
        const next = await Promise.race([new Promise<'tick'>((r) => { wake = () => r('tick'); setTimeout(r, pollMs, 'tick') }), gaveUp])
        if (next === 'gave-up') return E.right({ finished, starts, joined, stoppedEarly: lostFor() })
      }
    } finally {
      clearInterval(watchdog)
    }
  } catch (e) {
    return E.left(queueError('unreachable', `queue '${name}' at ${target.shown}: ${e instanceof Error ? e.message : String(e)}`))
  } finally {
    // The queue does not own the shared connection; closing it here also stops ioredis's reconnecting.
    await queue.close().catch(() => undefined)
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
