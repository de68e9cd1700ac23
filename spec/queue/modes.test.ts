/**
 * The many-core modes give the single-process answers: `run --workers N` (threads) writes the same
 * bytes; `eval` over a queue (with local worker processes) and over threads prints the same table
 * (accuracy, fixed, broken, McNemar); and merging shard counts equals evaluating the whole set, for
 * any split (property test).
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { evaluateClassifier, parsePolicy, orThrow, tensor, type Tensor } from '../../src/index.js'
import { evaluateShard, mergeShardCounts } from '../../src/queue/index.js'
import { skipReason, startRedis } from './redis-server.js'
import { folderHashes, makeInputs, referenceRun, segModel, startCli } from './helpers.js'

const assets = new URL('../../assets/fashion-mnist/', import.meta.url).pathname
const evalArgs = ['eval', '-m', `${assets}cnn_aug.onnx`, '--channels', '1', '--idx', `${assets}t10k-images-idx3-ubyte.gz`, `${assets}t10k-labels-idx1-ubyte.gz`,
  '--policies', 'none;hflip', '--limit', '300', '--threads', '1']
/** The table without its timing column. */
const table = (stdout: string): readonly string[] =>
  stdout.split('\n').filter((l) => /^(policy|none|hflip)\s/.test(l)).map((l) => l.replace(/\s+[\d.]+$|\s+ms\/image$/, ''))

let dir = ''
let singleTable: readonly string[] = []
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tta-queue-modes-'))
  const inputs = await makeInputs(join(dir, 'in'), 12)
  await referenceRun(dir, inputs.map((n) => join('in', n)), 'ref')
  const single = startCli(dir, evalArgs)
  expect(await single.exited).toBe(0)
  singleTable = table(single.stdout())
  expect(singleTable).toHaveLength(3)
}, 180_000)

describe('threads (--workers without --queue)', () => {
  it('run --workers 2 writes the bytes of a single-process run', async () => {
    const run = startCli(dir, ['run', 'in', '-m', segModel, '-t', 'segmentation', '--tta', 'd4', '-o', 'threads', '--workers', '2', '--shard', '3'])
    expect(await run.exited).toBe(0)
    expect(run.stdout()).toBe('12 written, 0 already done (skipped), 0 failed → threads\n')
    expect(await folderHashes(join(dir, 'threads'))).toEqual(await folderHashes(join(dir, 'ref')))
  }, 180_000)

  it('eval --workers 2 prints the single-process table', async () => {
    const run = startCli(dir, [...evalArgs, '--workers', '2', '--shard', '70'])
    expect(await run.exited).toBe(0)
    expect(table(run.stdout())).toEqual(singleTable)
  }, 180_000)
})

const skip = skipReason()
describe.skipIf(skip !== undefined)(`eval over a queue${skip === undefined ? '' : ` — skipped: ${skip}`}`, () => {
  it('eval --queue --workers 2 (two local worker processes) merges shard counts into the single-process table', async () => {
    const redis = await startRedis()
    try {
      const run = startCli(dir, [...evalArgs, '--queue', redis.url, '--workers', '2', '--shard', '70', '--lock-ms', '5000'])
      expect(await run.exited).toBe(0)
      expect(table(run.stdout())).toEqual(singleTable)
      expect(run.stdout()).toMatch(/: 5 jobs submitted \(0 joined\), 5 completed, 0 retried, 0 failed, 0 pending$/m)
    } finally {
      await redis.stop()
    }
  }, 240_000)
})

describe('shard counts', () => {
  // "Which pixel is brighter, left or right": hflip swaps the answer, so TTA fixes and breaks images.
  const model = async (x: Tensor<readonly ['N', 1, 1, 2]>) => orThrow(tensor([x.shape[0], 2], x.data))
  const policies = ['none', 'hflip']
  it('merged over any split, they equal the evaluation of the whole set', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 1 })), { minLength: 1, maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 39 }), { maxLength: 5 }),
      async (rows, cuts) => {
        const n = rows.length
        const set = { shape: [n, 1, 1, 2] as const, images: Float32Array.from(rows.flatMap(([a, b]) => [a, b])), labels: rows.map(([, , l]) => l) }
        const whole = await evaluateClassifier(model, set, policies.map((name) => ({ name, product: orThrow(parsePolicy(name)) })))
        const bounds = [...new Set([0, ...cuts.filter((c) => c < n), n])].sort((a, b) => a - b)
        const shards = []
        for (let k = 0; k + 1 < bounds.length; k++) {
          const counts = await evaluateShard(model, set, policies, bounds[k] ?? 0, bounds[k + 1] ?? n)
          if (E.isLeft(counts)) throw new Error(counts.left.message)
          shards.push(counts.right)
        }
        const merged = mergeShardCounts(shards)
        expect(E.isRight(whole) && E.isRight(merged)).toBe(true)
        if (E.isRight(whole) && E.isRight(merged)) {
          expect(merged.right.map((r) => [r.policy, r.correct, r.total, r.accuracy, r.fixed, r.broken, r.p]))
            .toEqual(whole.right.map((r) => [r.policy, r.correct, r.total, r.accuracy, r.fixed, r.broken, r.p]))
        }
      },
    ), { numRuns: 100 })
  })

  it('shards that disagree on the policies, or no shard at all, are typed errors', () => {
    const row = (policy: string) => ({ policy, views: 1, correct: 1, total: 1, fixed: 0, broken: 0, ms: 1 })
    expect(mergeShardCounts([[row('none')], [row('hflip')]])).toEqual(E.left({ _tag: 'ParamError', message: 'shards disagree on the policies: none and hflip' }))
    expect(mergeShardCounts([])).toEqual(E.left({ _tag: 'ParamError', message: 'no shard counts to merge' }))
  })
})
