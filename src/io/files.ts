/**
 * File safety: the rules every writer of outputs follows — the CLI's `run` today, a job queue's
 * workers tomorrow — so that no output is lost, overwritten by another input's, taken for an input,
 * or left half-written. Node-only.
 *
 * The rules (docs/reliability.md):
 * 1. **Names cannot collide.** Each input's outputs are named after its file stem; two inputs that
 *    would write the same output are both refused, each message naming the other
 *    ({@link planJobs}). An output that would overwrite an input is refused.
 * 2. **Outputs are never inputs.** Listing a folder skips files whose names are outputs' names
 *    when that folder is the output folder ({@link collectInputs}).
 * 3. **Read-only outputs are left alone.** A file or folder whose mode grants no write permission
 *    is read-only here even for root (as `rm` treats it); `force` does not override it
 *    ({@link jobState}, {@link prepareOutputFolder}).
 * 4. **Writes are atomic and interruptions leave nothing behind.** Bytes go to a temporary file
 *    beside the target, then a rename ({@link writeAtomic}); temporary files still open when the
 *    process is interrupted are removed by {@link removeTemporaryFiles} (installed for SIGINT and
 *    SIGTERM by {@link cleanUpOnInterrupt}); those of a process that was killed outright are
 *    removed by the next {@link prepareOutputFolder} of that folder.
 * 5. **A failed write fails one job.** Every function here returns a `FileError`; none throws.
 * 6. **Resume trusts complete sets.** A job is done when every one of its outputs exists; a partial
 *    set (an interrupted job) is redone.
 *
 * @since 0.4.0
 */
import { constants, rmSync } from 'node:fs'
import { access, mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { randomBytes } from 'node:crypto'
import * as E from 'fp-ts/lib/Either.js'
import { fileError, type FileError } from '../errors.js'

/** One input and the output files it produces. @category model */
export interface OutputJob {
  readonly input: string
  readonly outputs: readonly string[]
}

/** What {@link planJobs} decides: the jobs to run, and the inputs refused with the reason. @category model */
export interface JobPlan {
  readonly jobs: readonly OutputJob[]
  readonly refused: readonly { readonly input: string; readonly error: FileError }[]
}

const describe = (e: unknown): string => {
  const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : undefined
  const message = e instanceof Error ? e.message : String(e)
  return code === undefined ? message : `${code}: ${message.replace(new RegExp(`^${code}: `), '')}`
}

/**
 * The outputs of one input: `outDir/<stem><suffix>` for each suffix (`.mask.png`, `.json`).
 * @example
 * import { files } from 'tta-lens/node'
 * assert.deepStrictEqual(files.outputPaths('photos/cat.jpg', 'out', ['.mask.png', '.mask.npy']), ['out/cat.mask.png', 'out/cat.mask.npy'])
 * @category constructors
 */
export const outputPaths = (input: string, outDir: string, suffixes: readonly string[]): readonly string[] => {
  const stem = basename(input, extname(input))
  return suffixes.map((suffix) => join(outDir, `${stem}${suffix}`))
}

/**
 * Names every input's outputs and refuses what would lose or overwrite a file: two inputs with
 * the same stem (`a/x.png` and `b/x.jpg` both make `x.json`), or an output that is an input.
 * @example
 * import { files } from 'tta-lens/node'
 * const plan = files.planJobs(['a/x.png', 'b/x.png', 'a/y.png'], 'out', ['.json'])
 * assert.deepStrictEqual(plan.jobs.map((j) => j.input), ['a/y.png'])
 * assert.deepStrictEqual(plan.refused.map((r) => r.error.message), [
 *   'a/x.png and b/x.png would both write out/x.json; rename one or run them separately',
 *   'b/x.png and a/x.png would both write out/x.json; rename one or run them separately',
 * ])
 * @category constructors
 */
export const planJobs = (inputs: readonly string[], outDir: string, suffixes: readonly string[]): JobPlan => {
  const inputPaths = new Set(inputs.map((f) => resolve(f)))
  const writers = new Map<string, string[]>()
  const named = inputs.map((input) => ({ input, outputs: outputPaths(input, outDir, suffixes) }))
  for (const { input, outputs } of named) {
    for (const output of outputs) writers.set(resolve(output), [...(writers.get(resolve(output)) ?? []), input])
  }
  const jobs: OutputJob[] = []
  const refused: { input: string; error: FileError }[] = []
  for (const job of named) {
    const overwritten = job.outputs.find((o) => inputPaths.has(resolve(o)))
    if (overwritten !== undefined) {
      refused.push({ input: job.input, error: fileError('collision', overwritten, `its output ${overwritten} would overwrite an input; choose another output folder`) })
      continue
    }
    const clash = job.outputs.map((o) => ({ output: o, others: (writers.get(resolve(o)) ?? []).filter((i) => i !== job.input) })).find((c) => c.others.length > 0)
    if (clash !== undefined) {
      refused.push({ input: job.input, error: fileError('collision', clash.output, `${job.input} and ${clash.others.join(', ')} would both write ${clash.output}; rename one or run them separately`) })
      continue
    }
    jobs.push(job)
  }
  return { jobs, refused }
}

/** The name a temporary file of this process gets: hidden, beside its target, with the host and pid that own it. */
const hostTag = (): string => hostname().replace(/[^A-Za-z0-9-]/g, '_')
const temporaryName = (path: string): string =>
  join(dirname(path), `.${basename(path)}.${hostTag()}-${process.pid}-${randomBytes(4).toString('hex')}.tta-tmp`)
const temporaryPattern = /^\..+\.([A-Za-z0-9_-]+)-(\d+)-[0-9a-f]{8}\.tta-tmp$/

/** Temporary files this process has open now. */
const inFlight = new Set<string>()

/**
 * `true` for a name that {@link collectInputs} never takes as an input in the output folder: an
 * output's name (one of `suffixes`) or a temporary file of an atomic write.
 * @example
 * import { files } from 'tta-lens/node'
 * assert.ok(files.isOutputName('cat.mask.png', ['.mask.png', '.mask.npy']))
 * assert.ok(!files.isOutputName('cat.png', ['.mask.png', '.mask.npy']))
 * @category utils
 */
export const isOutputName = (name: string, suffixes: readonly string[]): boolean =>
  suffixes.some((s) => name.endsWith(s)) || name.endsWith('.tta-tmp')

/**
 * Expands files and folders into input files (a folder's files with one of `extensions`, sorted,
 * not recursive). In the output folder, files with an output's name are skipped, so a run whose
 * output folder is its input folder never reads its own masks as images.
 * @example
 * import { mkdtemp, writeFile } from 'node:fs/promises'
 * import { join } from 'node:path'
 * import { tmpdir } from 'node:os'
 * import { files } from 'tta-lens/node'
 * const dir = await mkdtemp(join(tmpdir(), 'tta-inputs-'))
 * await writeFile(join(dir, 'cat.png'), '')
 * await writeFile(join(dir, 'cat.mask.png'), '')
 * const found = await files.collectInputs([dir, join(dir, 'gone.png')], { extensions: ['.png'], outDir: dir, outputSuffixes: ['.mask.png'] })
 * assert.deepStrictEqual(found, { files: [join(dir, 'cat.png')], missing: [join(dir, 'gone.png')] })
 * @category constructors
 */
export const collectInputs = async (
  args: readonly string[],
  options: { readonly extensions: readonly string[]; readonly outDir?: string; readonly outputSuffixes?: readonly string[] },
): Promise<{ readonly files: readonly string[]; readonly missing: readonly string[] }> => {
  const found: string[] = []
  const missing: string[] = []
  const outDir = options.outDir === undefined ? undefined : resolve(options.outDir)
  for (const arg of args) {
    try {
      const info = await stat(arg)
      if (!info.isDirectory()) {
        found.push(arg)
        continue
      }
      const isOut = outDir !== undefined && resolve(arg) === outDir
      const entries = (await readdir(arg, { withFileTypes: true }))
        .filter((d) => d.isFile() && options.extensions.includes(extname(d.name).toLowerCase()))
        .filter((d) => !(isOut && isOutputName(d.name, options.outputSuffixes ?? [])))
      found.push(...entries.map((d) => join(arg, d.name)).sort())
    } catch {
      missing.push(arg)
    }
  }
  return { files: found, missing }
}

/** Read-only: no write permission in the mode bits (so also for root), or no write access. */
const readOnly = async (path: string, mode: number): Promise<boolean> =>
  (mode & 0o222) === 0 || (await access(path, constants.W_OK).then(() => false, () => true))

/**
 * Whether a job must run: `'done'` when all its outputs exist (and `force` is off), `'todo'`
 * otherwise — or a `FileError` when an output that would be replaced is read-only (with or
 * without `force`: a read-only file is the user's way of saying "keep this").
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { chmod, mkdtemp, writeFile } from 'node:fs/promises'
 * import { join } from 'node:path'
 * import { tmpdir } from 'node:os'
 * import { files } from 'tta-lens/node'
 * const dir = await mkdtemp(join(tmpdir(), 'tta-state-'))
 * const job = { input: 'cat.png', outputs: [join(dir, 'cat.json')] }
 * assert.deepStrictEqual(await files.jobState(job), E.right('todo'))
 * await writeFile(job.outputs[0] ?? '', '{}')
 * assert.deepStrictEqual(await files.jobState(job), E.right('done'))
 * await chmod(job.outputs[0] ?? '', 0o444)
 * const forced = await files.jobState(job, { force: true })
 * assert.ok(E.isLeft(forced) && forced.left.reason === 'read-only')
 * @category destructors
 */
export const jobState = async (job: OutputJob, options: { readonly force?: boolean } = {}): Promise<E.Either<FileError, 'todo' | 'done'>> => {
  const existing: { path: string; mode: number }[] = []
  for (const path of job.outputs) {
    try {
      const info = await stat(path)
      if (!info.isFile()) return E.left(fileError('write-failed', path, `${path} exists and is not a file; left unchanged`))
      existing.push({ path, mode: info.mode })
    } catch {
      // missing: will be written
    }
  }
  if (existing.length === job.outputs.length && options.force !== true) return E.right('done')
  for (const { path, mode } of existing) {
    if (await readOnly(path, mode)) return E.left(fileError('read-only', path, `${path} is read-only; left unchanged (make it writable to recompute it)`))
  }
  return E.right('todo')
}

/**
 * Makes sure `dir` can take outputs before any work: creates it when missing, refuses a path that
 * is a file or a read-only folder, and removes temporary files left there by a process of this
 * host that no longer runs (one killed in the middle of a write).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtemp, writeFile } from 'node:fs/promises'
 * import { join } from 'node:path'
 * import { tmpdir } from 'node:os'
 * import { files } from 'tta-lens/node'
 * const dir = await mkdtemp(join(tmpdir(), 'tta-out-'))
 * assert.ok(E.isRight(await files.prepareOutputFolder(join(dir, 'masks'))))
 * await writeFile(join(dir, 'file'), '')
 * const notDir = await files.prepareOutputFolder(join(dir, 'file'))
 * assert.ok(E.isLeft(notDir) && notDir.left.message === `the output folder ${join(dir, 'file')} is a file`)
 * @category constructors
 */
export const prepareOutputFolder = async (dir: string): Promise<E.Either<FileError, void>> => {
  try {
    const info = await stat(dir)
    if (!info.isDirectory()) return E.left(fileError('not-a-folder', dir, `the output folder ${dir} is a file`))
    if (await readOnly(dir, info.mode)) return E.left(fileError('read-only', dir, `the output folder ${dir} is read-only`))
  } catch {
    try {
      await mkdir(dir, { recursive: true })
    } catch (e) {
      return E.left(fileError('write-failed', dir, `cannot create the output folder ${dir}: ${describe(e)}`))
    }
  }
  await removeStaleTemporaries(dir)
  return E.right(undefined)
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return typeof e === 'object' && e !== null && 'code' in e && e.code === 'EPERM'
  }
}

/**
 * Removes the temporary files in `dir` whose owning process (on this host) has exited; returns
 * their names. Temporary files of live processes (another worker writing into the same folder)
 * and of other hosts are left alone.
 * @example
 * import { mkdtemp, readdir, writeFile } from 'node:fs/promises'
 * import { hostname, tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import { files } from 'tta-lens/node'
 * const dir = await mkdtemp(join(tmpdir(), 'tta-stale-'))
 * const stale = `.cat.json.${hostname().replace(/[^A-Za-z0-9-]/g, '_')}-999999999-0123abcd.tta-tmp`   // no such process
 * await writeFile(join(dir, stale), 'half')
 * assert.deepStrictEqual(await files.removeStaleTemporaries(dir), [stale])
 * assert.deepStrictEqual(await readdir(dir), [])
 * @category destructors
 */
export const removeStaleTemporaries = async (dir: string): Promise<readonly string[]> => {
  const removed: string[] = []
  let names: readonly string[]
  try {
    names = await readdir(dir)
  } catch {
    return removed
  }
  const host = hostTag()
  for (const name of names) {
    const match = temporaryPattern.exec(name)
    if (match === null || match[1] !== host) continue
    const pid = Number(match[2])
    if (pid === process.pid || alive(pid)) continue
    await rm(join(dir, name), { force: true }).then(() => removed.push(name), () => undefined)
  }
  return removed
}

/**
 * Writes bytes atomically: a temporary file beside the target, then a rename, so that an output
 * either is complete or does not exist. Never throws: a failure is a `FileError` for this file,
 * and the temporary file is removed.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtemp, readFile, readdir } from 'node:fs/promises'
 * import { join } from 'node:path'
 * import { tmpdir } from 'node:os'
 * import { files } from 'tta-lens/node'
 * const dir = await mkdtemp(join(tmpdir(), 'tta-write-'))
 * assert.ok(E.isRight(await files.writeAtomic(join(dir, 'a.json'), '{}')))
 * assert.strictEqual(await readFile(join(dir, 'a.json'), 'utf8'), '{}')
 * const failed = await files.writeAtomic(join(dir, 'missing', 'b.json'), '{}')
 * assert.ok(E.isLeft(failed) && failed.left.reason === 'write-failed')
 * assert.deepStrictEqual(await readdir(dir), ['a.json'])
 * @category destructors
 */
export const writeAtomic = async (path: string, bytes: Uint8Array | string): Promise<E.Either<FileError, void>> => {
  const temporary = temporaryName(path)
  inFlight.add(temporary)
  try {
    await writeFile(temporary, bytes)
    await rename(temporary, path)
    return E.right(undefined)
  } catch (e) {
    return E.left(fileError('write-failed', path, `cannot write ${path}: ${describe(e)}`))
  } finally {
    await rm(temporary, { force: true }).catch(() => undefined)
    inFlight.delete(temporary)
  }
}

/**
 * Removes, synchronously, every temporary file this process has open: for a signal handler,
 * which cannot wait for promises. Returns how many were removed.
 * @example
 * import { files } from 'tta-lens/node'
 * assert.strictEqual(files.removeTemporaryFiles(), 0)   // nothing is being written
 * @category destructors
 */
export const removeTemporaryFiles = (): number => {
  let removed = 0
  for (const temporary of inFlight) {
    try {
      rmSync(temporary, { force: true })
      removed++
    } catch {
      // already gone
    }
    inFlight.delete(temporary)
  }
  return removed
}

/**
 * On SIGINT or SIGTERM: removes this process's temporary files, calls `report` (one line for the
 * user), and exits with 130 or 143 as shells expect. Returns a function that removes the handlers.
 * @example
 * import { files } from 'tta-lens/node'
 * const before = process.listenerCount('SIGINT')
 * const uninstall = files.cleanUpOnInterrupt((signal) => process.stderr.write(`stopped by ${signal}\n`))
 * assert.strictEqual(process.listenerCount('SIGINT'), before + 1)
 * uninstall()
 * assert.strictEqual(process.listenerCount('SIGINT'), before)
 * @category destructors
 */
export const cleanUpOnInterrupt = (report: (signal: 'SIGINT' | 'SIGTERM') => void = () => undefined): (() => void) => {
  const handlers = ([['SIGINT', 130], ['SIGTERM', 143]] as const).map(([signal, code]) => {
    const handler = (): void => {
      removeTemporaryFiles()
      report(signal)
      process.exit(code)
    }
    process.once(signal, handler)
    return [signal, handler] as const
  })
  return () => {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler)
  }
}
