/**
 * The CLI's many-core and many-machine modes: `run`/`eval` with `--queue` (jobs on Redis, progress
 * as workers finish them) or `--workers N` (N local worker processes on that queue, or N threads
 * when there is no queue), and the `worker` and `queue status|clear` commands. Everything here calls
 * `tta-lens/queue`; the CLI only parses, reports and starts processes.
 *
 * @since 0.5.0
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { availableParallelism } from 'node:os'
import { readFile } from 'node:fs/promises'
import { Command, InvalidArgumentError, Option } from 'commander'
import * as E from 'fp-ts/lib/Either.js'
import type { OutputJob } from '../io/files.js'
import type { RunSpec, EvalSpec } from '../batch/spec.js'
import type { InputOutcome } from '../batch/files-run.js'
import { mergeShardCounts, type PolicyCounts, type PolicyRow } from '../batch/eval-shards.js'
import { shardPool } from '../batch/pool.js'
import { submitEval, submitRun, type JobCounts, type SubmitOptions } from '../queue/producer.js'
import { runWorker, type WorkerEvent } from '../queue/worker.js'
import { clearQueue, queueStatus } from '../queue/admin.js'
import { defaultQueueName } from '../queue/jobs.js'
import { checkRedis, parseRedisUrl, type QueueError } from '../queue/redis.js'

/** The flags of the distributed modes, as commander hands them over. */
export interface DistributedFlags {
  readonly queue?: string
  readonly queueName: string
  readonly shard?: number
  readonly workers?: number
  readonly attempts: number
  readonly backoffMs: number
  readonly redisTimeout: number
  readonly lockMs: number
}

const positive = (value: string): number => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive integer, got '${value}'`)
  return n
}
const upTo = (max: number) => (value: string): number => {
  const n = positive(value)
  if (n > max) throw new InvalidArgumentError(`expected at most ${max}, got '${value}'`)
  return n
}

/** Adds `--queue`, `--workers` and their tuning flags to `run` or `eval`. */
export const withDistributed = (command: Command, shardDefault: number): Command => command
  .option('--queue <redis-url>', 'run as jobs on a Redis queue (redis://[:password@]host:port[/db]); workers: tta-lens worker --queue …')
  .option('--queue-name <name>', 'the queue to use on that Redis', defaultQueueName)
  .option('--workers <n>', 'local workers: N worker processes on the --queue, or N threads without one', upTo(256))
  .option('--shard <n>', `inputs per job (default ${shardDefault})`, upTo(100_000))
  .option('--attempts <n>', 'tries per job before it is failed (a worker that dies, an input it cannot see)', upTo(100), 3)
  .addOption(new Option('--backoff-ms <ms>', 'wait before a failed job is tried again (doubles each time)').argParser(positive).default(1000))
  .addOption(new Option('--redis-timeout <s>', 'seconds to wait for a lost Redis before listing what is pending').argParser(positive).default(60))
  .addOption(new Option('--lock-ms <ms>', 'for --workers with --queue: how soon a dead worker\'s job goes to another').argParser(positive).default(30_000))

/** Every message the CLI prints about a failure is one line. */
const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim()
const refuse = (message: string): never => {
  process.stderr.write(`tta-lens: ${oneLine(message)}\n`)
  process.exit(2)
}
const queueFail = (e: QueueError): never => refuse(e.message)

/** With `--queue`: the URL parsed and Redis reached (password included) before any file is read or folder made. */
export const preflight = async (url: string | undefined): Promise<void> => {
  if (url === undefined) return
  const target = parseRedisUrl(url)
  if (E.isLeft(target)) return queueFail(target.left)
  const reachable = await checkRedis(target.right)
  if (E.isLeft(reachable)) return queueFail(reachable.left)
}

/** Intra-op threads per local worker when none are given: the cores shared out. */
export const threadsPerWorker = (workers: number): number => Math.max(1, Math.floor(availableParallelism() / workers))

/** N `tta-lens worker` processes on the queue; stopped (SIGTERM, then waited for) by the returned function. */
const startLocalWorkers = (flags: DistributedFlags, url: string, count: number): (() => Promise<void>) & { readonly exited: Promise<readonly number[]> } => {
  const bin = process.argv[1] ?? ''
  const children: ChildProcess[] = []
  for (let k = 0; k < count; k++) {
    children.push(spawn(process.execPath, [...process.execArgv, bin, 'worker', '--queue', url, '--queue-name', flags.queueName, '--lock-ms', String(flags.lockMs), '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] }))
  }
  const exited = Promise.all(children.map((child) => new Promise<number>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode ?? 1)
    child.once('exit', (code) => resolve(code ?? 1))
  })))
  const stop = async (): Promise<void> => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await exited
  }
  return Object.assign(stop, { exited })
}

const jobsLine = (queue: string, url: string, j: JobCounts): string =>
  `queue '${queue}' at ${url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@')}: ${j.submitted} jobs submitted (${j.joined} joined), ${j.completed} completed, ${j.retried} retried, ${j.failed} failed, ${j.pending} pending`

const submitOptions = (flags: DistributedFlags, shardDefault: number, onProgress: (done: number, total: number) => void, onNotice: (line: string) => void, onSubmitted: () => void): SubmitOptions => ({
  queue: flags.queueName,
  shardSize: flags.shard ?? shardDefault,
  attempts: flags.attempts,
  backoffMs: flags.backoffMs,
  redisTimeoutMs: flags.redisTimeout * 1000,
  onProgress,
  onNotice,
  onSubmitted,
})

/** What `run` hands over once it has planned and checked everything a single-process run checks. */
export interface RunHandOver {
  readonly spec: RunSpec
  /** Every planned input, in order. */
  readonly jobs: readonly OutputJob[]
  /** Inputs with work to do. */
  readonly todo: ReadonlySet<string>
  readonly skipped: number
  /** Failures found while planning (missing inputs, collisions, read-only outputs). */
  readonly failures: readonly string[]
  readonly progress: (total: number) => { update: (value: number) => void; stop: () => void }
}

const summaryLine = (written: number, skipped: number, failed: number, out: string, pending = 0): string =>
  `${written} written, ${skipped} already done (skipped), ${failed} failed${pending > 0 ? `, ${pending} pending` : ''} → ${out}\n`

/** `run --queue`: submit, (start local workers,) wait, report per input and per job. */
export const runOnQueue = async (flags: DistributedFlags & { readonly queue: string }, h: RunHandOver): Promise<void> => {
  const bar = h.progress(h.todo.size)
  // Local workers start once the run is the queue's, so that they check the right run's version.
  let stopWorkers: (() => Promise<void>) | undefined
  const start = (): void => { if (flags.workers !== undefined) stopWorkers = startLocalWorkers(flags, flags.queue, flags.workers) }
  const report = await submitRun(flags.queue, h.spec, h.jobs, h.todo, submitOptions(flags, 16, (done) => bar.update(done), (line) => process.stderr.write(`\n${line}\n`), start))
  bar.stop()
  await stopWorkers?.()
  if (E.isLeft(report)) return queueFail(report.left)
  const r = report.right
  const failures = [...h.failures, ...r.failed.map((f) => `${f.input}: ${f.reason}${f.attempts > 1 ? ` (${f.attempts} attempts)` : ''}`)]
  for (const f of failures) process.stderr.write(`failed: ${oneLine(f)}\n`)
  for (const p of r.pending) process.stderr.write(`pending: ${p}\n`)
  for (const l of r.lost) process.stderr.write(`lost: ${l}: counted as written but its outputs are not all on disk\n`)
  if (r.stoppedEarly !== undefined) process.stderr.write(`tta-lens: ${r.stoppedEarly}; ${r.pending.length} input${r.pending.length === 1 ? ' is' : 's are'} pending: rerun the same command to finish them\n`)
  process.stdout.write(summaryLine(r.written.length, h.skipped, failures.length, h.spec.out, r.pending.length))
  process.stdout.write(`${jobsLine(r.queue, flags.queue, r.jobs)} · outputs: ${r.written.length} written, ${r.lost.length} lost\n`)
  process.exitCode = r.pending.length > 0 || r.lost.length > 0 ? 3 : failures.length > 0 ? 1 : 0
}

/** `run --workers N` without a queue: shards through N threads. */
export const runOnThreads = async (flags: DistributedFlags & { readonly workers: number }, h: RunHandOver): Promise<void> => {
  const pool = shardPool(flags.workers)
  const todo = h.jobs.filter((j) => h.todo.has(j.input))
  const size = flags.shard ?? 4
  const bar = h.progress(todo.length)
  let done = 0
  let written = 0
  const failures = [...h.failures]
  const shards: OutputJob[][] = []
  for (let k = 0; k < todo.length; k += size) shards.push(todo.slice(k, k + size))
  const answers = await Promise.all(shards.map(async (inputs) => {
    const answer = await pool.run({ kind: 'run', spec: h.spec, inputs })
    done += inputs.length
    bar.update(done)
    return { inputs, answer }
  }))
  await pool.close()
  bar.stop()
  let skipped = h.skipped
  for (const { inputs, answer } of answers) {
    if (!answer.ok) { for (const j of inputs) failures.push(`${j.input}: ${answer.reason}`); continue }
    const outcomes: readonly InputOutcome[] = 'outcomes' in answer ? answer.outcomes : []
    for (const [i, o] of outcomes.entries()) {
      if (o.status === 'written') written++
      else if (o.status === 'skipped') skipped++
      else failures.push(`${inputs[i]?.input ?? ''}: ${o.reason}`)
    }
  }
  for (const f of failures) process.stderr.write(`failed: ${oneLine(f)}\n`)
  process.stdout.write(summaryLine(written, skipped, failures.length, h.spec.out))
  process.exitCode = failures.length > 0 ? 1 : 0
}

/** What `eval` hands over: its spec and the number of images in the set. */
export interface EvalHandOver {
  readonly spec: EvalSpec
  readonly images: number
  readonly progress: (total: number) => { update: (value: number) => void; stop: () => void }
  readonly print: (rows: readonly PolicyRow[]) => void
}

/** `eval --queue`: image ranges as jobs; the merged table. */
export const evalOnQueue = async (flags: DistributedFlags & { readonly queue: string }, h: EvalHandOver): Promise<void> => {
  const bar = h.progress(h.images)
  let stopWorkers: (() => Promise<void>) | undefined
  const start = (): void => { if (flags.workers !== undefined) stopWorkers = startLocalWorkers(flags, flags.queue, flags.workers) }
  const report = await submitEval(flags.queue, h.spec, h.images, submitOptions(flags, 500, (done) => bar.update(done), (line) => process.stderr.write(`\n${line}\n`), start))
  bar.stop()
  await stopWorkers?.()
  if (E.isLeft(report)) return queueFail(report.left)
  const r = report.right
  for (const f of r.failed) process.stderr.write(`failed: images ${f.images[0]}–${f.images[1] - 1}: ${oneLine(f.reason)}${f.attempts > 1 ? ` (${f.attempts} attempts)` : ''}\n`)
  for (const p of r.pending) process.stderr.write(`pending: images ${p[0]}–${p[1] - 1}\n`)
  if (r.stoppedEarly !== undefined) process.stderr.write(`tta-lens: ${r.stoppedEarly}; rerun the same command to finish the pending images\n`)
  if (r.rows !== undefined) h.print(r.rows)
  process.stdout.write(`${jobsLine(r.queue, flags.queue, r.jobs)}\n`)
  process.exitCode = r.pending.length > 0 ? 3 : r.failed.length > 0 ? 1 : 0
}

/** `eval --workers N` without a queue: image ranges through N threads. */
export const evalOnThreads = async (flags: DistributedFlags & { readonly workers: number }, h: EvalHandOver): Promise<void> => {
  const pool = shardPool(flags.workers)
  const size = flags.shard ?? Math.max(1, Math.ceil(h.images / (4 * flags.workers)))
  const bar = h.progress(h.images)
  let done = 0
  const ranges: [number, number][] = []
  for (let start = 0; start < h.images; start += size) ranges.push([start, Math.min(h.images, start + size)])
  const answers = await Promise.all(ranges.map(async ([start, end]) => {
    const answer = await pool.run({ kind: 'eval', spec: h.spec, start, end })
    done += end - start
    bar.update(done)
    return answer
  }))
  await pool.close()
  bar.stop()
  const counts: (readonly PolicyCounts[])[] = []
  for (const a of answers) {
    if (!a.ok) return refuse(a.reason)
    if ('counts' in a) counts.push(a.counts)
  }
  const rows = mergeShardCounts(counts)
  if (E.isLeft(rows)) return refuse(rows.left.message)
  h.print(rows.right)
}

/** Reads a `--config` or `--policy` file's JSON again for the spec (the CLI has already checked it). */
export const readConfigJson = async (path: string): Promise<unknown> => JSON.parse(await readFile(path, 'utf8'))

/** `tta-lens worker` and `tta-lens queue status|clear`. */
export const registerQueueCommands = (program: Command): void => {
  program.command('worker')
    .description('take jobs from a Redis queue and run them (any number of workers, on any machine that sees the inputs and outputs)')
    .requiredOption('--queue <redis-url>', 'the queue\'s Redis (redis://[:password@]host:port[/db])')
    .option('--queue-name <name>', 'the queue to serve', defaultQueueName)
    .option('--workers <n>', 'worker processes to start on this machine', upTo(256), 1)
    .addOption(new Option('--lock-ms <ms>', 'how long a job stays locked without renewal; a worker that dies loses its job after this').argParser(positive).default(30_000))
    .option('--quiet', 'print only failures')
    .action(async (o: { queue: string; queueName: string; workers: number; lockMs: number; quiet?: boolean }) => {
      if (o.workers > 1) {
        const stop = startLocalWorkers({ queueName: o.queueName, lockMs: o.lockMs, attempts: 3, backoffMs: 1000, redisTimeout: 60 }, o.queue, o.workers)
        const forward = (): void => { void stop().then(() => process.exit(0)) }
        process.once('SIGINT', forward)
        process.once('SIGTERM', forward)
        // The children say what went wrong themselves; this process ends with them.
        const codes = await stop.exited
        process.exit(Math.max(0, ...codes))
      }
      const say = (line: string): void => { process.stderr.write(`${line}\n`) }
      const worker = await runWorker(o.queue, {
        queue: o.queueName,
        lockMs: o.lockMs,
        onEvent: (e: WorkerEvent) => {
          if (e.type === 'job-finished' && !e.ok) say(`worker: job ${e.jobId} failed: ${oneLine(e.reason ?? '')}`)
          else if (e.type === 'connection') say(oneLine(e.message))
          else if (o.quiet !== true && e.type === 'job-finished') say(`worker: job ${e.jobId} done`)
        },
      })
      if (E.isLeft(worker)) return queueFail(worker.left)
      if (o.quiet !== true) say(`worker ${worker.right.name} serving queue '${o.queueName}'; Ctrl-C stops it after the current job`)
      const stop = (): void => { void worker.right.close() }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      const why = await worker.right.stopped
      if (why.reason === 'version') return queueFail(why.error)
      if (o.quiet !== true) say(`worker ${worker.right.name} stopped after ${worker.right.jobsDone()} jobs`)
      process.exit(0)
    })
  const queue = program.command('queue').description('look at or empty a Redis queue')
  queue.command('status')
    .description('jobs by state and the run the queue serves')
    .requiredOption('--queue <redis-url>', 'the queue\'s Redis')
    .option('--queue-name <name>', 'the queue', defaultQueueName)
    .action(async (o: { queue: string; queueName: string }) => {
      const status = await queueStatus(o.queue, o.queueName)
      if (E.isLeft(status)) return queueFail(status.left)
      const c = status.right.counts
      process.stdout.write(`queue '${status.right.queue}': ${status.right.run ?? 'no run'} · ${Object.entries(c).map(([k, v]) => `${v} ${k}`).join(', ')}\n`)
    })
  queue.command('clear')
    .description('remove every job of the queue (waiting, running, finished) and its run record')
    .requiredOption('--queue <redis-url>', 'the queue\'s Redis')
    .option('--queue-name <name>', 'the queue', defaultQueueName)
    .action(async (o: { queue: string; queueName: string }) => {
      const cleared = await clearQueue(o.queue, o.queueName)
      if (E.isLeft(cleared)) return queueFail(cleared.left)
      process.stdout.write(`queue '${o.queueName}' cleared\n`)
    })
}
