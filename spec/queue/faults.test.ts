/**
 * Fault tests of queue mode, on a real Redis (redis-server on 127.0.0.1, started here) with real
 * worker processes: (a) a worker SIGKILLed in the middle of a job, (b) Redis killed and restarted in
 * the middle of a run (persistence on), then lost for longer than the producer waits, (c) a poison
 * input that fails every attempt, (d) two producers submitting the same folder. Each asserts the
 * counts the producer prints — jobs submitted, joined, completed, retried, failed, pending; outputs
 * written, lost — and checks the output folder itself: every output present once, byte-equal to a
 * single-process run, no temporary file left.
 */
import { cp, mkdtemp, readdir, rm } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { queueStatus } from '../../src/queue/index.js'
import { skipReason, startRedis, type RedisServer } from './redis-server.js'
import {
  folderHashes, killHard, makeInputs, printedCounts, referenceRun, segModel, startCli, startWorkerChild, stopGently, waitUntil, type Child,
} from './helpers.js'

const skip = skipReason()
const LOCK_MS = 5000

let template = ''
let reference: Readonly<Record<string, string>> = {}
beforeAll(async () => {
  if (skip !== undefined) return
  template = await mkdtemp(join(tmpdir(), 'tta-queue-faults-'))
  const inputs = await makeInputs(join(template, 'in'), 24)
  await referenceRun(template, inputs.map((n) => join('in', n)), 'ref')
  reference = await folderHashes(join(template, 'ref'))
}, 120_000)

/** Processes and servers a test started, stopped after it whatever happened. */
const started: { children: Child[]; servers: RedisServer[] } = { children: [], servers: [] }
afterEach(async () => {
  for (const c of started.children.splice(0)) await killHard(c)
  for (const s of started.servers.splice(0)) await s.stop()
})
const track = <C extends Child>(c: C): C => { started.children.push(c); return c }
const redis = async (): Promise<RedisServer> => { const r = await startRedis(); started.servers.push(r); return r }

const workspace = async (): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'tta-queue-case-'))
  await cp(join(template, 'in'), join(dir, 'in'), { recursive: true })
  return dir
}
const runArgs = (out: string, url: string, queue: string, extra: readonly string[] = []): string[] =>
  ['run', 'in', '-m', segModel, '-t', 'segmentation', '--tta', 'd4', '-o', out, '--queue', url, '--queue-name', queue, '--shard', '4', '--backoff-ms', '100', ...extra]
const waiting = async (url: string, queue: string, n: number): Promise<boolean> => {
  const status = await queueStatus(url, queue)
  return E.isRight(status) && (status.right.counts['waiting'] ?? 0) === n
}
const noTemporaries = async (dir: string): Promise<void> => {
  expect((await readdir(dir)).filter((n) => n.endsWith('.tta-tmp'))).toEqual([])
}

describe.skipIf(skip !== undefined)(`queue faults${skip === undefined ? '' : ` — skipped: ${skip}`}`, () => {
  it('(a) a worker SIGKILLed in the middle of a job: another worker runs it again; every output once, byte-equal to a single-process run', async () => {
    const r = await redis()
    const dir = await workspace()
    const first = track(startWorkerChild(r.url, 'fa', LOCK_MS, true))
    await first.waitFor(/"type":"ready"/)
    const producer = track(startCli(dir, runArgs('out', r.url, 'fa')))
    await first.waitFor(/"type":"paused"/) // it has written one output of its job and holds the job
    const second = track(startCli(dir, ['worker', '--queue', r.url, '--queue-name', 'fa', '--lock-ms', String(LOCK_MS), '--quiet']))
    await killHard(first)
    expect(await producer.exited).toBe(0)
    expect(await stopGently(second)).toBe(0)
    expect(printedCounts(producer.stdout())).toEqual({ submitted: 6, joined: 0, completed: 6, retried: 1, failed: 0, pending: 0, written: 24, lost: 0 })
    expect(producer.stdout()).toMatch(/^24 written, 0 already done \(skipped\), 0 failed → out$/m)
    expect(await folderHashes(join(dir, 'out'))).toEqual(reference)
    await noTemporaries(join(dir, 'out'))
  }, 300_000)

  it('(b) Redis killed and restarted mid-run (append-only file): the run completes; lost for longer than the producer waits: it lists exactly the pending inputs, and a rerun finishes them', async () => {
    const r = await redis()
    const dir = await workspace()
    // Part 1: Redis dies while a worker holds a job and the producer waits; it comes back with every job.
    const holder = track(startWorkerChild(r.url, 'fb', LOCK_MS, true))
    await holder.waitFor(/"type":"ready"/)
    const producer = track(startCli(dir, runArgs('out', r.url, 'fb', ['--redis-timeout', '300'])))
    await holder.waitFor(/"type":"paused"/)
    await r.kill()
    await producer.waitFor(/lost Redis at/)
    await r.restart()
    await killHard(holder)
    const worker = track(startWorkerChild(r.url, 'fb', LOCK_MS))
    expect(await producer.exited).toBe(0)
    expect(printedCounts(producer.stdout())).toEqual({ submitted: 6, joined: 0, completed: 6, retried: 1, failed: 0, pending: 0, written: 24, lost: 0 })
    expect(await folderHashes(join(dir, 'out'))).toEqual(reference)
    await stopGently(worker)

    // Part 2: Redis stays away longer than --redis-timeout: the producer stops and names what is pending.
    const holder2 = track(startWorkerChild(r.url, 'fb2', LOCK_MS, true))
    await holder2.waitFor(/"type":"ready"/)
    const giveUp = track(startCli(dir, runArgs('out2', r.url, 'fb2', ['--redis-timeout', '2'])))
    await holder2.waitFor(/"type":"paused"/)
    await r.kill()
    expect(await giveUp.exited).toBe(3)
    const onDisk = Object.keys(await folderHashes(join(dir, 'out2')))
    expect(onDisk).toHaveLength(2) // the one input the holder finished
    const done = onDisk[0]?.replace(/\.mask\.(png|npy)$/, '.png') ?? ''
    const pending = giveUp.stderr().split('\n').filter((l) => l.startsWith('pending: ')).map((l) => l.slice('pending: '.length)).sort()
    const expected = Object.keys(reference).filter((n) => n.endsWith('.mask.png')).map((n) => join('in', n.replace(/\.mask\.png$/, '.png'))).filter((n) => !n.endsWith(done)).sort()
    expect(pending).toEqual(expected)
    expect(giveUp.stderr()).toMatch(/^tta-lens: Redis at redis:\/\/127\.0\.0\.1:\d+ was unreachable for more than 2 s; 23 inputs are pending: rerun the same command to finish them$/m)
    expect(giveUp.stdout()).toMatch(/^1 written, 0 already done \(skipped\), 0 failed, 23 pending → out2$/m)
    expect(printedCounts(giveUp.stdout())).toEqual({ submitted: 6, joined: 0, completed: 0, retried: 0, failed: 0, pending: 6, written: 1, lost: 0 })
    await killHard(holder2)
    await r.restart()
    const finisher = track(startWorkerChild(r.url, 'fb2', LOCK_MS))
    const rerun = track(startCli(dir, runArgs('out2', r.url, 'fb2')))
    expect(await rerun.exited).toBe(0)
    // The finisher starts on the jobs Redis kept (append-only file) while the rerun is starting, so
    // how many inputs the rerun still finds to do depends on timing; what may not vary: every input
    // is written or already done, once, nothing fails, is pending or is lost.
    const line = /^(\d+) written, (\d+) already done \(skipped\), 0 failed → out2$/m.exec(rerun.stdout())
    expect(line).not.toBeNull()
    const [written, skipped] = [Number(line?.[1]), Number(line?.[2])]
    expect(written + skipped).toBe(24)
    expect(skipped).toBeGreaterThanOrEqual(1)
    const counts = printedCounts(rerun.stdout())
    expect(counts).toMatchObject({ completed: counts.submitted, failed: 0, pending: 0, written, lost: 0 })
    expect(counts.submitted).toBeGreaterThanOrEqual(1)
    expect(await folderHashes(join(dir, 'out2'))).toEqual(reference)
    await noTemporaries(join(dir, 'out2'))
    await stopGently(finisher)
  }, 300_000)

  it('(c) a poison input (gone before a worker gets to it) is reported once, with its reason, after the stated 3 attempts; the rest of its job and run is unaffected', async () => {
    const r = await redis()
    const dir = await workspace()
    await cp(join(dir, 'in', 'img11.png'), join(dir, 'in', 'img11b.png')) // shares a job with img12–img14
    const producer = track(startCli(dir, runArgs('out', r.url, 'fc', ['--attempts', '3'])))
    await waitUntil('7 waiting jobs', () => waiting(r.url, 'fc', 7))
    await rm(join(dir, 'in', 'img11b.png'))
    const worker = track(startWorkerChild(r.url, 'fc', LOCK_MS))
    expect(await producer.exited).toBe(1)
    expect(printedCounts(producer.stdout())).toEqual({ submitted: 7, joined: 0, completed: 6, retried: 2, failed: 1, pending: 0, written: 24, lost: 0 })
    const mentions = producer.stderr().split('\n').filter((l) => l.includes('img11b'))
    expect(mentions).toEqual([`failed: in/img11b.png: cannot see ${join(dir, 'in', 'img11b.png')} from ${hostname()}: ENOENT (3 attempts)`])
    expect(producer.stdout()).toMatch(/^24 written, 0 already done \(skipped\), 1 failed → out$/m)
    expect(await folderHashes(join(dir, 'out'))).toEqual(reference)
    await noTemporaries(join(dir, 'out'))
    await stopGently(worker)
  }, 300_000)

  it('(d) two producers submitting the same folder share its jobs: each input is run once, both report the whole run', async () => {
    const r = await redis()
    const dir = await workspace()
    const first = track(startCli(dir, runArgs('out', r.url, 'fd')))
    await waitUntil('6 waiting jobs', () => waiting(r.url, 'fd', 6))
    const second = track(startCli(dir, runArgs('out', r.url, 'fd')))
    await second.waitFor(/6 of 6 jobs were already on queue 'fd'/)
    const worker = track(startWorkerChild(r.url, 'fd', LOCK_MS))
    expect(await first.exited).toBe(0)
    expect(await second.exited).toBe(0)
    expect(printedCounts(first.stdout())).toEqual({ submitted: 6, joined: 0, completed: 6, retried: 0, failed: 0, pending: 0, written: 24, lost: 0 })
    expect(printedCounts(second.stdout())).toEqual({ submitted: 6, joined: 6, completed: 6, retried: 0, failed: 0, pending: 0, written: 24, lost: 0 })
    await stopGently(worker)
    // The worker's own record: 24 inputs written, each once, nothing skipped or redone.
    const outcomes = worker.stdout().split('\n').filter((l) => l.includes('"input-done"')).map((l) => JSON.parse(l) as { jobId: string; index: number; outcome: { status: string } })
    expect(outcomes.map((o) => o.outcome.status)).toEqual(Array.from({ length: 24 }, () => 'written'))
    expect(new Set(outcomes.map((o) => `${o.jobId}/${o.index}`)).size).toBe(24)
    const status = await queueStatus(r.url, 'fd')
    expect(E.isRight(status) && status.right.counts).toMatchObject({ completed: 6, failed: 0, waiting: 0, active: 0 })
    expect(await folderHashes(join(dir, 'out'))).toEqual(reference)
  }, 300_000)
})
