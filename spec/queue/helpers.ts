/**
 * Shared by the queue suites: input folders of small PNGs, the single-process reference outputs, the
 * CLI and worker children as processes whose output can be waited on, and the counts a queue run
 * prints. Waits are on events and counts (with generous limits for a busy 2-core machine), never on
 * fixed sleeps.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import sharp from 'sharp'
import { openFileRunner, outputSuffixes, type RunSpec } from '../../src/queue/index.js'
import { packageVersion } from '../../src/io/package.js'
import { planJobs } from '../../src/io/files.js'

export const cli = new URL('../../bin/tta-lens.mjs', import.meta.url).pathname
export const segModel = new URL('../fixtures/models/seg_conv1x1_sigmoid.onnx', import.meta.url).pathname
const workerChild = new URL('./worker-child.ts', import.meta.url).pathname
const tsx = import.meta.resolve('tsx')

/** `count` 12×8 RGB PNGs named `img00.png`, … in `dir`. */
export const makeInputs = async (dir: string, count: number, prefix = 'img'): Promise<readonly string[]> => {
  await mkdir(dir, { recursive: true })
  const names: string[] = []
  for (let k = 0; k < count; k++) {
    const pixels = Buffer.from(Array.from({ length: 8 * 12 * 3 }, (_, i) => (i * (k + 3) + k) % 256))
    const name = `${prefix}${String(k).padStart(2, '0')}.png`
    await sharp(pixels, { raw: { width: 12, height: 8, channels: 3 } }).png().toFile(join(dir, name))
    names.push(name)
  }
  return names
}

/** The outputs a single-process run writes for `inputs` (relative to `cwd`) into `out`, with the CLI's runner. */
export const referenceRun = async (cwd: string, inputs: readonly string[], out: string, policy = 'd4'): Promise<void> => {
  const spec: RunSpec = {
    kind: 'run', version: packageVersion(), cwd, model: segModel, task: 'segmentation', policy: { tta: policy, label: policy },
    merge: 'mean', backend: 'js', preprocess: { channels: 3 }, out, suffixes: [...outputSuffixes('segmentation')], coordinates: 'pixels', force: false,
  }
  await mkdir(join(cwd, out), { recursive: true })
  const runner = await openFileRunner(spec)
  if (E.isLeft(runner)) throw new Error(runner.left.message)
  for (const job of planJobs(inputs, out, spec.suffixes).jobs) {
    const outcome = await runner.right.run(job)
    if (outcome.status !== 'written') throw new Error(`reference: ${job.input}: ${JSON.stringify(outcome)}`)
  }
  await runner.right.release()
}

/** Every file in `dir` (names sorted) with a hash of its bytes. */
export const folderHashes = async (dir: string): Promise<Readonly<Record<string, string>>> => {
  const names = (await readdir(dir).catch(() => [] as string[])).sort()
  const out: Record<string, string> = {}
  for (const name of names) out[name] = createHash('sha1').update(await readFile(join(dir, name))).digest('hex')
  return out
}

/** A child process whose output lines can be awaited. */
export interface Child {
  readonly process: ChildProcess
  readonly stdout: () => string
  readonly stderr: () => string
  /** Resolves with the first line (of stdout or stderr) that matches, or rejects after `timeoutMs`. */
  readonly waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<string>
  /** Resolves with the exit code (or the signal's name). */
  readonly exited: Promise<number | string>
}

const watch = (child: ChildProcess, label: string): Child => {
  let stdout = ''
  let stderr = ''
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = []
  const feed = (text: string): void => {
    for (const line of text.split(/\r|\n/)) {
      for (const w of [...waiters]) {
        if (w.pattern.test(line)) {
          waiters.splice(waiters.indexOf(w), 1)
          w.resolve(line)
        }
      }
    }
  }
  child.stdout?.on('data', (b: Buffer) => { stdout += b.toString(); feed(b.toString()) })
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString(); feed(b.toString()) })
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  return {
    process: child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (pattern, timeoutMs = 90_000) => {
      const seen = `${stdout}\n${stderr}`.split(/\r|\n/).find((l) => pattern.test(l))
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${label}: no line matching ${pattern} in ${timeoutMs} ms; stdout: ${stdout.slice(-600)} stderr: ${stderr.slice(-600)}`)), timeoutMs)
        waiters.push({ pattern, resolve: (line) => { clearTimeout(timer); resolve(line) } })
      })
    },
  }
}

/** `tta-lens …args` in `cwd`. */
export const startCli = (cwd: string, args: readonly string[]): Child =>
  watch(spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } }), `tta-lens ${args[0] ?? ''}`)

/** A library worker in its own process (spec/queue/worker-child.ts); `pause` stops it inside its first job. */
export const startWorkerChild = (url: string, queue: string, lockMs: number, pause = false): Child =>
  watch(spawn(process.execPath, ['--import', tsx, workerChild, url, queue, String(lockMs), ...(pause ? ['--pause-after-first'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] }), 'worker child')

/** The counts a queue run prints on its last line. */
export interface PrintedCounts {
  readonly submitted: number
  readonly joined: number
  readonly completed: number
  readonly retried: number
  readonly failed: number
  readonly pending: number
  readonly written: number
  readonly lost: number
}

export const printedCounts = (stdout: string): PrintedCounts => {
  const m = /: (\d+) jobs submitted \((\d+) joined\), (\d+) completed, (\d+) retried, (\d+) failed, (\d+) pending · outputs: (\d+) written, (\d+) lost$/m.exec(stdout)
  if (m === null) throw new Error(`no counts line in: ${stdout}`)
  const [submitted, joined, completed, retried, failed, pending, written, lost] = m.slice(1).map(Number)
  return { submitted: submitted ?? -1, joined: joined ?? -1, completed: completed ?? -1, retried: retried ?? -1, failed: failed ?? -1, pending: pending ?? -1, written: written ?? -1, lost: lost ?? -1 }
}

/** Polls `check` until it returns true (a count reached), or fails after `timeoutMs`. */
export const waitUntil = async (what: string, check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> => {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Kills a child with SIGKILL and waits for it to be gone. */
export const killHard = async (child: Child): Promise<void> => {
  child.process.kill('SIGKILL')
  await child.exited
}

/** Stops a child with SIGTERM (a worker finishes its job and leaves) and waits. */
export const stopGently = async (child: Child): Promise<number | string> => {
  if (child.process.exitCode === null && child.process.signalCode === null) child.process.kill('SIGTERM')
  return child.exited
}
