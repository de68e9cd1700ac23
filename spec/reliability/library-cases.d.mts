/** Types of the untyped case table in library-cases.mjs (the cases themselves stay plain JavaScript). */
export interface CaseContext {
  /** A fresh temporary folder (with a/x.png, a/y.png, b/x.png and out/ for `files` cases). */
  readonly dir: string
  /** Takes the folder's current state as "before": for a case that prepares files itself. */
  readonly rebaseline: () => Promise<void>
  /** Gzipped zeros that unpack past the IDX limit (made on demand: it takes a second). */
  readonly gzipBomb: () => Promise<Uint8Array>
}

export interface Expected {
  /** The error's `_tag`; 'Left' for a Left that is not a TtaError (a law violation). */
  readonly tag: string
  /** The exact message, a pattern, or the exact message built from the case's folder. */
  readonly message?: string | RegExp | ((ctx: CaseContext) => string)
  /** Other fields the error must have. */
  readonly fields?: Readonly<Record<string, unknown>>
}

export interface LibraryCase {
  /** 1 limits, 2 non-finite values, 3 outputs, 4 data and shapes, 5 crashes. */
  readonly cls: 1 | 2 | 3 | 4 | 5
  readonly title: string
  /** Run in a child process whose peak RSS is bounded (limit cases). */
  readonly rss?: boolean
  /** The case works in `ctx.dir`: no file there may change except `changes`. */
  readonly files?: boolean
  readonly changes?: readonly (string | RegExp)[]
  readonly run: (lib: unknown, ctx: CaseContext) => unknown
  readonly expect: Expected
}

export declare const libraryCases: readonly LibraryCase[]
export declare const caseFiles: (dir: string) => Promise<void>
