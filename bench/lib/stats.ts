/**
 * Interleaved timing: every compared variant runs once per round, in a rotated order (round r
 * starts at variant r mod n), so slow drift and background load hit all variants alike. Warm-up
 * rounds run first and are discarded. No assertions: the numbers are reported, never checked.
 */
import type { QuietGate } from './quiet.js'

export interface Variant {
  readonly name: string
  /** One repetition. Throw to abort (a failed run must not be timed). */
  readonly run: () => unknown
  /** Repetitions per sample (the sample is their mean); default 1. */
  readonly reps?: number
}

export interface Timing {
  readonly name: string
  /** Milliseconds per repetition, one per round. */
  readonly samples: readonly number[]
  readonly median: number
  readonly min: number
  /**
   * CPU milliseconds (user + system) of this process per repetition, one per round: unlike wall
   * time, not lengthened while other processes hold the cores (still slowed by their use of caches
   * and memory). Comparable to wall time only for single-threaded work.
   */
  readonly cpuSamples: readonly number[]
  readonly cpuMedian: number
}

export interface InterleaveOptions {
  readonly rounds: number
  readonly warmup: number
  /** Called after each round (progress output). */
  readonly onRound?: (round: number, rounds: number) => void
  /** Wait for a quiet machine before each timed round or each timed sample (bench/lib/quiet.ts). */
  readonly gate?: { readonly gate: QuietGate; readonly per: 'round' | 'sample' }
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  if (s.length === 0) return Number.NaN
  return s.length % 2 === 1 ? (s[mid] ?? Number.NaN) : ((s[mid - 1] ?? Number.NaN) + (s[mid] ?? Number.NaN)) / 2
}

const cpuMs = (): number => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1000
}

const timeOnce = async (v: Variant): Promise<{ wall: number; cpu: number }> => {
  const reps = v.reps ?? 1
  const cpu = cpuMs()
  const start = performance.now()
  for (let k = 0; k < reps; k++) await v.run()
  return { wall: (performance.now() - start) / reps, cpu: (cpuMs() - cpu) / reps }
}

/** Runs the variants interleaved: A,B,C, B,C,A, C,A,B, … after `warmup` untimed rounds. */
export const interleave = async (variants: readonly Variant[], options: InterleaveOptions): Promise<readonly Timing[]> => {
  for (let r = 0; r < options.warmup; r++) for (const v of variants) await timeOnce(v)
  const samples: { wall: number; cpu: number }[][] = variants.map(() => [])
  for (let r = 0; r < options.rounds; r++) {
    if (options.gate?.per === 'round') await options.gate.gate.wait()
    for (let k = 0; k < variants.length; k++) {
      const index = (r + k) % variants.length
      const v = variants[index]
      if (options.gate?.per === 'sample') await options.gate.gate.wait()
      if (v !== undefined) samples[index]?.push(await timeOnce(v))
    }
    options.onRound?.(r + 1, options.rounds)
  }
  return variants.map((v, i) => {
    const s = (samples[i] ?? []).map((x) => x.wall)
    const cpu = (samples[i] ?? []).map((x) => x.cpu)
    return { name: v.name, samples: s, median: median(s), min: Math.min(...s), cpuSamples: cpu, cpuMedian: median(cpu) }
  })
}

export const byName = (timings: readonly Timing[], name: string): Timing => {
  const t = timings.find((x) => x.name === name)
  if (t === undefined) throw new Error(`no timing named ${name}`)
  return t
}
