/**
 * Shared by the reliability suites: the five classes' names, folder snapshots (to assert that no
 * file changed or was lost), the peak-RSS bounds, and the CLI as a subprocess with its peak RSS.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'

export const classNames = {
  1: 'hangs and runaway memory',
  2: 'non-finite values returned as success',
  3: 'outputs lost or polluted',
  4: 'data that does not match its shape',
  5: 'crashes with stack traces',
} as const

const KiB = 1
const MiB = 1024 * KiB
/** Peak RSS allowed for a process that only refused (Node, tsx, sharp and onnxruntime loaded: ~110–150 MiB measured). */
export const refusalRssBoundKiB = 256 * MiB
/** The gzip bomb may unpack up to the IDX limit (256 MiB of bytes) before it is refused. */
export const bombRssBoundKiB = 512 * MiB

/** Every file and folder under `dir`: its mode and, for files, a hash of its bytes. */
export const snapshot = async (dir: string): Promise<ReadonlyMap<string, string>> => {
  const out = new Map<string, string>()
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const path = join(d, entry.name)
      const info = await stat(path)
      const key = relative(dir, path)
      if (entry.isDirectory()) {
        out.set(`${key}/`, `dir ${info.mode.toString(8)}`)
        await walk(path)
      } else {
        out.set(key, `${info.mode.toString(8)} ${createHash('sha1').update(await readFile(path)).digest('hex')}`)
      }
    }
  }
  await walk(dir)
  return out
}

/** Paths added, removed or changed between two snapshots, sorted. */
export const changedPaths = (before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): readonly string[] => {
  const paths = new Set([...before.keys(), ...after.keys()])
  return [...paths].filter((p) => before.get(p) !== after.get(p)).sort()
}

const cli = new URL('../../bin/tta-lens.mjs', import.meta.url).pathname
const probe = new URL('./rss-probe.mjs', import.meta.url).pathname

/** What one CLI run did. */
export interface CliResult {
  readonly code: number | string
  readonly stdout: string
  readonly stderr: string
  /** Peak resident set size of the process, in KiB. */
  readonly rssKiB: number
}

/** Runs `tta-lens …args` in `cwd` as a user would, with the peak-RSS probe preloaded. */
export const tta = async (cwd: string, args: readonly string[], options: { readonly timeoutMs?: number } = {}): Promise<CliResult> => {
  const scratch = await mkdtemp(join(tmpdir(), 'tta-rss-'))
  const rssFile = join(scratch, 'rss')
  const result = await new Promise<{ code: number | string; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', probe, cli, ...args], {
      cwd, timeout: options.timeoutMs ?? 200_000, maxBuffer: 1 << 22,
      env: { ...process.env, TTA_RSS_FILE: rssFile, NO_COLOR: '1' },
    }, (error, stdout, stderr) => {
      const code: unknown = error === null ? 0 : 'code' in error ? error.code : undefined
      const signal: unknown = error === null ? undefined : 'signal' in error ? error.signal : undefined
      resolve({ code: typeof code === 'number' ? code : typeof signal === 'string' ? signal : -1, stdout, stderr })
    })
  })
  const rssKiB = Number(await readFile(rssFile, 'utf8').catch(() => 'NaN'))
  await rm(scratch, { recursive: true, force: true })
  return { ...result, rssKiB }
}

/** stderr without the progress bar's redraws (cli-progress writes to stderr). */
export const messages = (stderr: string): readonly string[] =>
  stderr.split('\n').map((l) => l.replace(/\r/g, '').trim()).filter((l) => l !== '' && !/^(run|eval) [░█]/.test(l))
