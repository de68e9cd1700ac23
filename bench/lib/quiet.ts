/**
 * Waiting for a quiet machine. The bench shares its 2 cores with other work that comes in bursts;
 * before a sample it waits (within a budget) until the CPU time used by *other* processes over a
 * short window is below a threshold: /proc/stat's busy time minus this process's own CPU time.
 * Where /proc/stat cannot be read it never waits.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'

const TICK_MS = 10 // USER_HZ = 100 on Linux

const cpuTicks = (): { busy: number; total: number } | undefined => {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
    const fields = line.trim().split(/\s+/).slice(1).map(Number)
    if (fields.length < 5 || fields.some((f) => !Number.isFinite(f))) return undefined
    const total = fields.slice(0, 8).reduce((a, b) => a + b, 0)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Fraction of all cores used by other processes over `windowMs`, or undefined if unknown. */
export const othersLoad = async (windowMs = 150): Promise<number | undefined> => {
  const a = cpuTicks()
  const mine = process.cpuUsage()
  await sleep(windowMs)
  const b = cpuTicks()
  const own = process.cpuUsage(mine)
  if (a === undefined || b === undefined || b.total <= a.total) return undefined
  const busyMs = (b.busy - a.busy) * TICK_MS - (own.user + own.system) / 1000
  const totalMs = (b.total - a.total) * TICK_MS
  return Math.max(0, busyMs) / totalMs
}

export interface QuietGate {
  /** Waits until the others' load is below the threshold or the budget is spent; true if quiet. */
  readonly wait: () => Promise<boolean>
  readonly stats: () => { readonly gated: number; readonly quiet: number; readonly unchecked: number; readonly waitedMs: number }
}

/** A gate with a total waiting budget (so a busy machine slows the bench down by at most that). */
export const quietGate = (budgetMs: number, threshold = 0.25): QuietGate => {
  let waited = 0
  let gated = 0
  let quiet = 0
  let unchecked = 0
  const cores = os.cpus().length
  return {
    wait: async () => {
      gated++
      // Once the budget is spent, stop checking too (each check costs a window).
      if (waited >= budgetMs) {
        unchecked++
        return false
      }
      for (;;) {
        const start = performance.now()
        const load = await othersLoad()
        waited += performance.now() - start
        if (load === undefined || load < threshold || cores < 1) {
          if (load !== undefined) quiet++
          return load !== undefined
        }
        if (waited >= budgetMs) return false
        await sleep(100)
        waited += 100
      }
    },
    stats: () => ({ gated, quiet, unchecked, waitedMs: waited }),
  }
}
