/**
 * Which reference file a parity suite reads: the file named by an environment variable when it is
 * set (`TTACH_GOLDEN` for ttach, `BOXES_GOLDEN` for ensemble-boxes), else the copy in spec/fixtures.
 * A relative path is taken from the working directory, as a shell user expects. The suites read
 * the file through their io-ts decoders, so a file of another format fails them loudly.
 *
 *   TTACH_GOLDEN=/path/to/ttach_more.json npx vitest run spec/parity
 *   BOXES_GOLDEN=/path/to/boxes_more.json npx vitest run spec/boxes
 *
 * @since 0.3.0
 */
import path from 'node:path'

/** The environment variables the parity suites read. */
export type ReferenceVariable = 'TTACH_GOLDEN' | 'BOXES_GOLDEN'

/** The file a suite should read: `env[variable]` (resolved against `cwd`) when set and not empty, else `fallback`. */
export const referenceFile = (
  variable: ReferenceVariable,
  fallback: URL,
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): URL | string => {
  const named = env[variable]?.trim() ?? ''
  return named === '' ? fallback : path.resolve(cwd, named)
}

/** How a suite names its source in its summary line. */
export const describeSource = (file: URL | string, variable: ReferenceVariable): string =>
  typeof file === 'string' ? `${file} (from ${variable})` : path.relative(process.cwd(), file.pathname)
