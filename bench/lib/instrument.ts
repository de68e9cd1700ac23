/**
 * Splitting a wrapper run's time: the backend and the model are wrapped in timers (a few µs per
 * call), and `onView` marks the last merge, so a run's wall time splits into augment, model,
 * deaugment + merge, finalize (last merge → result) and the rest (planning, dry run, output
 * decoding, scheduling). Minor page faults per run come from `process.resourceUsage()`.
 */
import type { Backend, BatchBuffer, BatchRequest } from '../../src/index.js'
import { median } from './stats.js'

export interface Parts {
  augment: number
  model: number
  reduce: number
  finalize: number
  rest: number
  total: number
  /** augment + reduce + finalize: the library's own data work, independent of the model. */
  library: number
  faults: number
}

const fresh = (): Parts => ({ augment: 0, model: 0, reduce: 0, finalize: 0, rest: 0, total: 0, library: 0, faults: 0 })

/** A recorder: wrap the backend and the model with it, then time runs with `measure`. */
export const recorder = () => {
  let current = fresh()
  let lastView = 0
  const runs: Parts[] = []
  return {
    runs,
    backend: (inner: Backend): Backend => ({
      name: inner.name, detail: inner.detail,
      augment: async (stages, src, dst, offset) => {
        const s = performance.now()
        await inner.augment(stages, src, dst, offset)
        current.augment += performance.now() - s
      },
      reduce: async (stages, src, acc, write) => {
        const s = performance.now()
        const bad = await inner.reduce(stages, src, acc, write)
        current.reduce += performance.now() - s
        return bad
      },
      // The backend's own model input (the js backend's, in WebAssembly memory): its views' writes are augment time too.
      ...(inner.batch === undefined ? {} : {
        batch: (request: BatchRequest): BatchBuffer | undefined => {
          const held = inner.batch?.(request)
          if (held === undefined) return undefined
          return {
            data: held.data,
            release: () => { held.release?.() },
            source: (src) => { held.source(src) },
            augment: async (stages, offset) => {
              const s = performance.now()
              await held.augment(stages, offset)
              current.augment += performance.now() - s
            },
          }
        },
      }),
    }),
    /** Times `call` as model time. */
    model: async <T>(call: () => Promise<T>): Promise<T> => {
      const s = performance.now()
      const out = await call()
      current.model += performance.now() - s
      return out
    },
    onView: (): void => { lastView = performance.now() },
    /** Runs one wrapper run and records its parts. */
    measure: async (run: () => Promise<unknown>): Promise<void> => {
      current = fresh()
      const faults = process.resourceUsage().minorPageFault
      const s = performance.now()
      await run()
      const end = performance.now()
      current.total = end - s
      current.finalize = end - lastView
      current.rest = current.total - current.augment - current.model - current.reduce - current.finalize
      current.library = current.augment + current.reduce + current.finalize
      current.faults = process.resourceUsage().minorPageFault - faults
      runs.push(current)
    },
  }
}

/** Median of each part over the recorded runs, skipping the first `skip` (warm-up). */
export const medianParts = (runs: readonly Parts[], skip: number): Parts => {
  const kept = runs.slice(skip)
  const m = (k: keyof Parts): number => median(kept.map((p) => p[k]))
  return { total: m('total'), augment: m('augment'), model: m('model'), reduce: m('reduce'), finalize: m('finalize'), rest: m('rest'), library: m('library'), faults: m('faults') }
}
