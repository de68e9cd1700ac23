import type fc from 'fast-check'

/** One public entry point and the arbitrary for its arguments (see entry-points.mjs). */
export interface EntryPoint {
  readonly name: string
  readonly args: fc.Arbitrary<unknown>
  readonly call: (args: never) => unknown
}

export declare const entryPoints: (lib: unknown) => readonly EntryPoint[]
export declare const policyString: fc.Arbitrary<unknown>
export declare const configJson: fc.Arbitrary<unknown>
export declare const options: fc.Arbitrary<unknown>
export declare const optionsFor: (task: string) => fc.Arbitrary<unknown>
