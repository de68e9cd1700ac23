import type { CaseContext, Expected } from './library-cases.d.mts'

export declare const problemWith: (result: unknown, expected: Expected, ctx: CaseContext) => string | undefined
export declare const gzipBomb: () => Promise<Uint8Array>
