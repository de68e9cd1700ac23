/**
 * The producer's wait: what one look at the queue costs Redis does not grow with the number of jobs
 * (it once asked every pending job for its state on every poll — over 100 Redis calls per image on a
 * 2,000-image run), and jobs that vanish (Redis restarted without persistence, the queue cleared)
 * are still noticed: the producer stops and lists every input as pending. No worker runs here: the
 * jobs stay waiting, so the looks are all the producer does.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { Redis } from 'ioredis'
import { describe, expect, it } from 'vitest'
import { outputSuffixes, submitRun, type RunSpec } from '../../src/queue/index.js'
import { planJobs } from '../../src/io/files.js'
import { packageVersion } from '../../src/io/package.js'
import { skipReason, startRedis } from './redis-server.js'
import { segModel } from './helpers.js'

/** Commands Redis has run so far (INFO commandstats), this INFO included. */
const callsSoFar = async (client: Redis): Promise<number> => {
  const text = await client.info('commandstats')
  let calls = 0
  for (const m of text.matchAll(/calls=(\d+)/g)) calls += Number(m[1])
  return calls
}

const skip = skipReason()
describe.skipIf(skip !== undefined)(`the producer's wait${skip === undefined ? '' : ` — skipped: ${skip}`}`, () => {
  it('a look costs a few Redis commands whatever the number of pending jobs; jobs that vanish stop the wait with every input pending', async () => {
    const redis = await startRedis(['--appendonly', 'no'])
    const dir = await mkdtemp(join(tmpdir(), 'tta-queue-producer-'))
    const watcher = new Redis(redis.url)
    try {
      const inputs = Array.from({ length: 300 }, (_, k) => `in/img${String(k).padStart(3, '0')}.png`)
      const spec: RunSpec = {
        kind: 'run', version: packageVersion(), cwd: dir, model: segModel, task: 'segmentation', policy: { tta: 'hflip', label: 'hflip' },
        merge: 'mean', backend: 'js', preprocess: { channels: 3 }, out: 'out', suffixes: [...outputSuffixes('segmentation')], coordinates: 'pixels', force: false,
      }
      let looks = 0
      const snapshots: { calls: number; looks: number }[] = []
      const snapshot = async (): Promise<void> => {
        const calls = await callsSoFar(watcher)
        snapshots.push({ calls, looks })
      }
      let measured: Promise<void> = Promise.resolve()
      // Every look ends with a progress report: between the 3rd and the 23rd, count what Redis ran; then delete every job.
      const onProgress = (): void => {
        looks++
        if (looks === 3) measured = snapshot()
        if (looks === 23) measured = measured.then(snapshot).then(async () => { await watcher.flushall() })
      }
      const report = await submitRun(redis.url, spec, planJobs(inputs, 'out', outputSuffixes('segmentation')).jobs, new Set(inputs),
        { queue: 'wait', shardSize: 1, pollMs: 20, onProgress })
      await measured
      // The looks that ran between the two snapshots (each snapshot may land one look late) and the commands Redis ran meanwhile.
      const [first, second] = snapshots
      expect(first !== undefined && second !== undefined).toBe(true)
      const spanned = (second?.looks ?? 0) - (first?.looks ?? 0)
      expect(spanned).toBeGreaterThanOrEqual(18)
      const perLook = ((second?.calls ?? 0) - (first?.calls ?? 0) - 1) / (spanned + 2)
      // ZMSCORE ×2, EXISTS, LRANGE per look (300 pending jobs): asking each job would be at least 300.
      expect(perLook).toBeLessThanOrEqual(6)
      expect(E.isRight(report)).toBe(true)
      if (E.isRight(report)) {
        expect(report.right.stoppedEarly).toBe("300 jobs vanished from queue 'wait' (Redis restarted without persistence, or the queue was cleared)")
        expect(report.right.jobs).toEqual({ submitted: 300, joined: 0, completed: 0, failed: 0, retried: 0, pending: 300 })
        expect(report.right.pending).toEqual(inputs)
        expect(report.right.written).toEqual([])
      }
    } finally {
      watcher.disconnect()
      await redis.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
