/** Runs the `tta-lens` command as a subprocess, the way a user's shell does, for the CLI suites. */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

/** The command's entry (it runs the TypeScript source through tsx in a checkout). */
export const cliPath = new URL('../../bin/tta-lens.mjs', import.meta.url).pathname

/** What one run of the command printed, and its exit code (-1 when it was killed). */
export interface CliResult { readonly code: number; readonly stdout: string; readonly stderr: string }

/**
 * A runner with a time limit per run: generous, since CLI runs start tsx and a model and the
 * suites also run on busy shared machines, where a run can take many times its quiet duration.
 */
export const cliRunner = (timeoutMs: number) => async (...args: string[]): Promise<CliResult> => {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [cliPath, ...args], { timeout: timeoutMs })
    return { code: 0, stdout, stderr }
  } catch (e) {
    // execFile rejects with the exit code and the captured output on a non-zero exit.
    const field = (name: string): unknown => (typeof e === 'object' && e !== null && name in e ? Reflect.get(e, name) : undefined)
    const code = field('code')
    return { code: typeof code === 'number' ? code : -1, stdout: String(field('stdout') ?? ''), stderr: String(field('stderr') ?? '') }
  }
}
