/**
 * What a run holds between model calls: the previous chunk's prediction is merged before the next
 * call and must not stay reachable during it (with a budget the chunks are sized on the assumption
 * that one prediction is alive at a time). Checked in a child process that can force collections.
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const child = fileURLToPath(new URL('./fixtures/retention-child.ts', import.meta.url))

describe('retention across model calls', () => {
  it('no earlier prediction is reachable during a later model call (four chunks of two views)', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', child], { encoding: 'utf8', timeout: 120_000 })
    expect(run.status, run.stderr).toBe(0)
    const report: unknown = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')
    expect(report).toEqual({ calls: 4, alive: [[], [], [], []] })
  }, 130_000)
})
