/**
 * Queue mode fed bad input, in the reliability suite's style: the CLI as a subprocess, one line on
 * stderr naming the problem, a non-zero exit, and no output left behind as if complete. Cases: a Redis
 * that is not there, a URL that is not Redis's, a password missing or wrong, a queue holding another
 * run's unfinished jobs, and jobs or a run made by another tta-lens version (refused by the producer,
 * by a worker at start, and by a worker that meets such a job).
 */
import { mkdtemp, readdir } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { Job, Queue } from 'bullmq'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { queueStatus, type RunSpec } from '../../src/queue/index.js'
import { packageVersion } from '../../src/io/package.js'
import { messages } from '../reliability/helpers.js'
import { skipReason, startRedis, type RedisServer } from './redis-server.js'
import { makeInputs, segModel, startCli, stopGently, waitUntil } from './helpers.js'

const skip = skipReason()
const version = packageVersion()

let dir = ''
let open: RedisServer | undefined
let locked: RedisServer | undefined
beforeAll(async () => {
  if (skip !== undefined) return
  dir = await mkdtemp(join(tmpdir(), 'tta-queue-bad-'))
  await makeInputs(join(dir, 'in'), 4)
  open = await startRedis()
  locked = await startRedis(['--requirepass', 's3cret'])
}, 120_000)
afterAll(async () => {
  await open?.stop()
  await locked?.stop()
})

const run = async (args: readonly string[]): Promise<{ code: number | string; lines: readonly string[]; stdout: string }> => {
  const child = startCli(dir, args)
  const code = await child.exited
  return { code, lines: messages(child.stderr()), stdout: child.stdout() }
}
const runArgs = (out: string, url: string, queue: string, tta = 'd4'): string[] =>
  ['run', 'in', '-m', segModel, '-t', 'segmentation', '--tta', tta, '-o', out, '--queue', url, '--queue-name', queue]
/** Nothing written as if complete: the output folder is absent or empty. */
const nothingIn = async (out: string): Promise<void> => {
  expect(await readdir(join(dir, out)).catch(() => [])).toEqual([])
}

describe.skipIf(skip !== undefined)(`queue bad input${skip === undefined ? '' : ` — skipped: ${skip}`}`, () => {
  it('a Redis that is not there: run, eval and worker each say so in one line and exit 2, before any output folder exists', async () => {
    const url = 'redis://127.0.0.1:1'
    const line = 'tta-lens: cannot reach Redis at redis://127.0.0.1:1: connection refused (is redis-server running there?)'
    const runResult = await run(runArgs('out-unreachable', url, 'q'))
    expect([runResult.code, runResult.lines]).toEqual([2, [line]])
    await nothingIn('out-unreachable')
    const worker = await run(['worker', '--queue', url])
    expect([worker.code, worker.lines]).toEqual([2, [line]])
    const evalResult = await run(['eval', '-m', segModel, '--folder', 'in', '--queue', url])
    expect([evalResult.code, evalResult.lines]).toEqual([2, [line]])
  }, 240_000)

  it('a URL that is not a Redis URL is refused before anything else', async () => {
    const result = await run(runArgs('out-url', 'http://127.0.0.1:6379', 'q'))
    expect([result.code, result.lines]).toEqual([2, ['tta-lens: --queue http://127.0.0.1:6379: expected redis://[user:password@]host[:port][/db]']])
    await nothingIn('out-url')
  }, 120_000)

  it('a password missing or wrong: one line that says which, the password never shown', async () => {
    const port = locked?.port ?? 0
    const missing = await run(runArgs('out-auth', `redis://127.0.0.1:${port}`, 'q'))
    expect([missing.code, missing.lines]).toEqual([2, [`tta-lens: Redis at redis://127.0.0.1:${port} needs a password: pass it in the URL, redis://:PASSWORD@127.0.0.1:${port}`]])
    const wrong = await run(['worker', '--queue', `redis://:nope@127.0.0.1:${port}`])
    expect([wrong.code, wrong.lines]).toEqual([2, [`tta-lens: Redis at redis://:***@127.0.0.1:${port} refused the password (WRONGPASS invalid username-password pair or user is disabled)`]])
    await nothingIn('out-auth')
  }, 120_000)

  it('a queue holding unfinished jobs of another run (another policy) is refused; after `queue clear` it is free', async () => {
    const url = open?.url ?? ''
    const first = startCli(dir, runArgs('out-policy', url, 'busy', 'hflip'))
    await waitUntil('the first run\'s job', async () => {
      const status = await queueStatus(url, 'busy')
      return E.isRight(status) && (status.right.counts['waiting'] ?? 0) === 1
    })
    expect(await stopGently(first)).toBe(143) // interrupted: its job stays queued, no worker ran it
    const second = await run(runArgs('out-policy', url, 'busy', 'd4'))
    expect([second.code, second.lines]).toEqual([2, [
      `tta-lens: queue 'busy' at ${url} holds unfinished jobs of another run (run of hflip with seg_conv1x1_sigmoid.onnx into out-policy (tta-lens ${version})); let its workers finish, clear it with \`tta-lens queue clear\`, or pass --queue-name`,
    ]])
    await nothingIn('out-policy')
    const cleared = await run(['queue', 'clear', '--queue', url, '--queue-name', 'busy'])
    expect([cleared.code, cleared.stdout]).toEqual([0, "queue 'busy' cleared\n"])
    const status = await queueStatus(url, 'busy')
    expect(E.isRight(status) && status.right).toEqual({ queue: 'busy', counts: { waiting: 0, active: 0, delayed: 0, prioritized: 0, completed: 0, failed: 0 } })
  }, 240_000)

  it('jobs and runs of another tta-lens version: the producer refuses the queue, a new worker refuses to start, a running worker fails such a job unrun and stops', async () => {
    const url = open?.url ?? ''
    const old = '0.0.1'
    const spec: RunSpec = {
      kind: 'run', version: old, cwd: dir, model: segModel, task: 'segmentation', policy: { tta: 'd4', label: 'd4' }, merge: 'mean',
      backend: 'js', preprocess: { channels: 3 }, out: 'out-version', suffixes: ['.mask.png', '.mask.npy'], coordinates: 'pixels', force: false,
    }
    // A worker of this version, started while the queue is empty.
    const earlyWorker = startCli(dir, ['worker', '--queue', url, '--queue-name', 'old'])
    await earlyWorker.waitFor(/serving queue 'old'/)
    // An older tta-lens submits a run: its record and one job.
    const client = new Redis(url)
    await client.hset('tta-lens:old:tta-lens-run', { version: old, specId: 'feedfacefeedface', description: `run of d4 with seg_conv1x1_sigmoid.onnx into out-version (tta-lens ${old})` })
    const queue = new Queue('old', { connection: client, prefix: 'tta-lens' })
    await queue.add('run', { specId: 'feedfacefeedface', spec, inputs: [{ input: 'in/img00.png', outputs: ['out-version/img00.mask.png', 'out-version/img00.mask.npy'] }] }, { jobId: 'old-1', attempts: 3 })
    expect(await earlyWorker.exited).toBe(2)
    const name = /worker (\S+) serving/.exec(earlyWorker.stderr())?.[1] ?? ''
    expect(name).toMatch(new RegExp(`^${hostname()}:\\d+$`))
    expect(messages(earlyWorker.stderr()).slice(-2)).toEqual([
      `worker: job old-1 failed: this job needs tta-lens ${old}; worker ${name} runs tta-lens ${version}`,
      `tta-lens: queue 'old' at ${url} holds a run of d4 with seg_conv1x1_sigmoid.onnx into out-version made by tta-lens ${old}; this worker is tta-lens ${version}: start workers of the same version`,
    ])
    const job = await Job.fromId(queue, 'old-1')
    expect([await job?.getState(), job?.attemptsMade, job?.failedReason]).toEqual(['failed', 1, `this job needs tta-lens ${old}; worker ${name} runs tta-lens ${version}`])
    await queue.add('run', { specId: 'feedfacefeedface', spec, inputs: [{ input: 'in/img01.png', outputs: ['out-version/img01.mask.png', 'out-version/img01.mask.npy'] }] }, { jobId: 'old-2' })

    const lateWorker = await run(['worker', '--queue', url, '--queue-name', 'old'])
    expect([lateWorker.code, lateWorker.lines]).toEqual([2, [
      `tta-lens: queue 'old' at ${url} holds a run of d4 with seg_conv1x1_sigmoid.onnx into out-version (tta-lens ${old}); this worker is tta-lens ${version}: start workers of the same version`,
    ]])
    const producer = await run(runArgs('out-version', url, 'old'))
    expect([producer.code, producer.lines]).toEqual([2, [
      `tta-lens: queue 'old' at ${url} holds unfinished jobs of tta-lens ${old} (run of d4 with seg_conv1x1_sigmoid.onnx into out-version (tta-lens ${old})); this is tta-lens ${version}: let them finish with workers of that version, or clear the queue with \`tta-lens queue clear\``,
    ]])
    await nothingIn('out-version')
    await queue.close()
    client.disconnect()
  }, 240_000)
})
