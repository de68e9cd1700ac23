/** Markdown helpers for docs/benchmarks.md. */
import type { QuietGate } from './quiet.js'
import type { Timing } from './stats.js'

/** Inline code for text that may itself hold backticks (a backend's detail). */
export const code = (text: string): string => `\`${text.replaceAll('`', "'")}\``

export const ms = (x: number): string => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3))
export const ratio = (x: number): string => `${x.toFixed(2)}×`
export const mib = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(1)}`

export const table = (header: readonly string[], rows: readonly (readonly string[])[], align?: readonly ('l' | 'r')[]): string => {
  const sep = header.map((_, i) => ((align?.[i] ?? (i === 0 ? 'l' : 'r')) === 'r' ? '---:' : '---'))
  return [header, sep, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n')
}

/** A timing table: median, min, and the ratio of medians to `baseline`. */
export const timingTable = (timings: readonly Timing[], baseline: string, notes: Readonly<Record<string, string>> = {}): string => {
  const base = timings.find((t) => t.name === baseline)
  const hasNotes = Object.keys(notes).length > 0
  const header = ['variant', 'median ms', 'min ms', `median ÷ ${baseline}`, 'min ÷ min', ...(hasNotes ? ['note'] : [])]
  const rows = timings.map((t) => [
    t.name, ms(t.median), ms(t.min),
    base === undefined ? '' : ratio(t.median / base.median),
    base === undefined ? '' : ratio(t.min / base.min),
    ...(hasNotes ? [notes[t.name] ?? ''] : []),
  ])
  return table(header, rows, ['l', 'r', 'r', 'r', 'r', 'l'])
}

export interface TargetLine {
  readonly id: string
  readonly target: string
  readonly measured: string
  readonly met: boolean | undefined
}

export interface SectionResult {
  /** Markdown for the section body (tables with their command). */
  readonly markdown: string
  readonly targets: readonly TargetLine[]
  /** Findings for the Analysis section. */
  readonly analysis: readonly string[]
}

export const commandLine = (section: string): string => `Made by \`npm run bench -- ${section}\` (part of \`npm run bench\`).`

/** One line on how quiet the machine was for a group of samples. */
export const gateLine = (gate: QuietGate, what: string): string => {
  const s = gate.stats()
  const busy = s.gated - s.quiet - s.unchecked
  const parts = [
    `${s.quiet} started after a check found other processes using under a quarter of the CPU`,
    ...(busy > 0 ? [`${busy} started on a busy machine (the check timed out)`] : []),
    ...(s.unchecked > 0 ? [`the last ${s.unchecked} were not checked (the gate's waiting budget, which its own 150 ms checks also use, was spent)`] : []),
  ]
  return `Quiet gate, over ${s.gated} ${what}: ${parts.join('; ')}. Waited ${(s.waitedMs / 1000).toFixed(1)} s in all.`
}
