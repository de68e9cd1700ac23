/**
 * A searched policy (`run --policy`) and one half of a split (`eval --split`) in the many-core modes
 * give the single-process answers: the policy file's JSON and the half's image indices travel in
 * the jobs' spec, so threads and workers need neither file. `eval --policy` (its uncertainty and
 * early-exit report is one process's) is refused with them in one line.
 */
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import sharp from 'sharp'
import { beforeAll, describe, expect, it } from 'vitest'
import { skipReason, startRedis } from './redis-server.js'
import { folderHashes, startCli } from './helpers.js'

const assets = new URL('../../assets/fashion-mnist/', import.meta.url).pathname
const model = `${assets}cnn_aug.onnx`
const policy = `${assets}policy-cnn_aug.json`
const runArgs = (out: string): string[] => ['run', 'in', '-m', model, '--channels', '1', '--policy', policy, '-o', out, '--threads', '1']
const evalArgs = ['eval', '-m', model, '--channels', '1', '--idx', `${assets}t10k-images-idx3-ubyte.gz`, `${assets}t10k-labels-idx1-ubyte.gz`,
  '--split', `${assets}split.json`, '--limit', '300', '--policies', 'none;hflip', '--threads', '1']
/** The table without its timing column. */
const table = (stdout: string): readonly string[] =>
  stdout.split('\n').filter((l) => /^(policy|none|hflip)\s/.test(l)).map((l) => l.replace(/\s+[\d.]+$|\s+ms\/image$/, ''))

let dir = ''
let singleTable: readonly string[] = []
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tta-queue-policy-split-'))
  await mkdir(join(dir, 'in'))
  // Eight 28×28 grey images: bars and blocks at different places, so the policy's views disagree on some.
  for (let k = 0; k < 8; k++) {
    const pixels = Buffer.from(Array.from({ length: 28 * 28 }, (_, i) => ((i % 28) > 2 + k && (i % 28) < 12 + 2 * k && Math.floor(i / 28) > k ? 220 - 10 * k : 0)))
    await sharp(pixels, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(join(dir, 'in', `g${k}.png`))
  }
  const single = startCli(dir, runArgs('single'))
  expect(await single.exited, single.stderr()).toBe(0)
  expect(single.stdout()).toBe('8 written, 0 already done (skipped), 0 failed → single\n')
  const evaluated = startCli(dir, evalArgs)
  expect(await evaluated.exited, evaluated.stderr()).toBe(0)
  singleTable = table(evaluated.stdout())
  expect(singleTable).toHaveLength(3)
}, 180_000)

describe('threads (--workers without --queue)', () => {
  it('run --policy --workers 2 writes the bytes of a single-process run --policy', async () => {
    const run = startCli(dir, [...runArgs('threads'), '--workers', '2', '--shard', '3'])
    expect(await run.exited, run.stderr()).toBe(0)
    expect(run.stdout()).toBe('8 written, 0 already done (skipped), 0 failed → threads\n')
    const single = await folderHashes(join(dir, 'single'))
    expect(Object.keys(single)).toHaveLength(8)
    expect(await folderHashes(join(dir, 'threads'))).toEqual(single)
  }, 180_000)

  it('eval --split --workers 2 prints the single-process table of the same half', async () => {
    const run = startCli(dir, [...evalArgs, '--workers', '2', '--shard', '70'])
    expect(await run.exited, run.stderr()).toBe(0)
    expect(table(run.stdout())).toEqual(singleTable)
  }, 180_000)

  it('eval --policy with --workers or --queue is refused in one line, exit 2', async () => {
    const refused = startCli(dir, ['eval', '-m', model, '--channels', '1', '--idx', `${assets}t10k-images-idx3-ubyte.gz`, `${assets}t10k-labels-idx1-ubyte.gz`,
      '--policy', policy, '--workers', '2'])
    expect(await refused.exited).toBe(2)
    expect(refused.stderr()).toBe('tta-lens: eval --policy runs in one process: --queue and --workers are not supported with it yet\n')
  }, 60_000)
})

const skip = skipReason()
describe.skipIf(skip !== undefined)(`over a queue${skip === undefined ? '' : ` — skipped: ${skip}`}`, () => {
  it('run --policy and eval --split with --queue (one local worker process) give the single-process bytes and table', async () => {
    const redis = await startRedis(['--appendonly', 'no'])
    try {
      const run = startCli(dir, [...runArgs('queued'), '--queue', redis.url, '--workers', '1', '--shard', '3', '--lock-ms', '5000'])
      expect(await run.exited, run.stderr()).toBe(0)
      expect(run.stdout()).toMatch(/: 3 jobs submitted \(0 joined\), 3 completed, 0 retried, 0 failed, 0 pending · outputs: 8 written, 0 lost$/m)
      expect(await folderHashes(join(dir, 'queued'))).toEqual(await folderHashes(join(dir, 'single')))
      const evaluated = startCli(dir, [...evalArgs, '--queue', redis.url, '--workers', '1', '--shard', '100', '--lock-ms', '5000'])
      expect(await evaluated.exited, evaluated.stderr()).toBe(0)
      expect(table(evaluated.stdout())).toEqual(singleTable)
      expect(evaluated.stdout()).toMatch(/: 3 jobs submitted \(0 joined\), 3 completed, 0 retried, 0 failed, 0 pending$/m)
    } finally {
      await redis.stop()
    }
  }, 240_000)
})
