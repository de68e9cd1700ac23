/**
 * Keeps the compile-time checks honest. A `// @ts-expect-error` line passes whatever the error is,
 * so a check that broke and now fails for another reason (or reduces a parameter to `never`) would
 * go unnoticed. Each directive in `spec/types/*.test-d.ts` names the words its error must contain:
 *
 *     // @ts-expect-error "view [1,3,6,4] does not fit model input [N,3,4,6]"
 *
 * This test type-checks those files with every directive turned into a plain comment and asserts
 * that the line below each one has an error whose full text contains those words.
 *
 * `TTA_PRINT_MESSAGES=1 npx vitest run spec/types/messages.test.ts` prints the messages (for
 * docs/types.md).
 */
import { readFileSync, readdirSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, test } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..', '..')
const directive = /^(\s*)\/\/ @ts-expect-error(.*)$/

interface Expectation {
  /** `file.test-d.ts:line` of the code that must fail (1-based), for the test's name. */
  readonly name: string
  readonly file: string
  /** 0-based line of the code that must fail (the line after the directive). */
  readonly line: number
  readonly words: string
}

const files = readdirSync(here).filter((f) => f.endsWith('.test-d.ts')).sort().map((f) => join(here, f))

const expectations: Expectation[] = []
const stripped = new Map<string, string>()
for (const file of files) {
  const lines = readFileSync(file, 'utf8').split('\n')
  const out = lines.map((text, i) => {
    const m = directive.exec(text)
    if (m === null) return text
    const quoted = /^\s*"(.*)"\s*$/.exec(m[2] ?? '')
    // JSON.parse undoes the \" escapes inside the quotes.
    const words: unknown = quoted === null ? '' : JSON.parse(`"${quoted[1] ?? ''}"`)
    expectations.push({ name: `${basename(file)}:${i + 2}`, file, line: i + 1, words: typeof words === 'string' ? words : '' })
    return `${m[1] ?? ''}// (ts-expect-error)${m[2] ?? ''}`
  })
  stripped.set(resolve(file), out.join('\n'))
}

const diagnostics = (): readonly ts.Diagnostic[] => {
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => { throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n')) },
  })
  if (config === undefined) throw new Error('cannot read tsconfig.json')
  const host = ts.createCompilerHost(config.options)
  const read = host.readFile.bind(host)
  host.readFile = (name) => stripped.get(resolve(name)) ?? read(name)
  const program = ts.createProgram({ rootNames: files, options: config.options, host })
  return files.flatMap((f) => {
    const source = program.getSourceFile(f)
    return source === undefined ? [] : [...program.getSemanticDiagnostics(source), ...program.getSyntacticDiagnostics(source)]
  })
}

const messagesAt = (all: readonly ts.Diagnostic[], e: Expectation): readonly string[] =>
  all.flatMap((d) => {
    if (d.file === undefined || d.start === undefined || resolve(d.file.fileName) !== resolve(e.file)) return []
    return d.file.getLineAndCharacterOfPosition(d.start).line === e.line ? [ts.flattenDiagnosticMessageText(d.messageText, '\n')] : []
  })

describe('compile-time error messages', () => {
  const all = diagnostics()

  test('every directive says which words to expect', () => {
    expect(expectations.length).toBeGreaterThan(0)
    expect(expectations.filter((e) => e.words === '').map((e) => `${e.file}:${e.line}`)).toEqual([])
  })

  test.for(expectations)('$name', (e) => {
    const found = messagesAt(all, e)
    if (process.env['TTA_PRINT_MESSAGES'] === '1') console.log(`${e.name}\n${found.join('\n---\n')}\n`)
    expect(found.length, `no error at ${e.name}`).toBeGreaterThan(0)
    expect(found.some((m) => m.includes(e.words)), `expected "${e.words}" in:\n${found.join('\n')}`).toBe(true)
  })

  test('nothing else fails to compile in the type tests', () => {
    const lines = new Set(expectations.map((e) => `${resolve(e.file)}:${e.line}`))
    const other = all.filter((d) => d.file === undefined || d.start === undefined ||
      !lines.has(`${resolve(d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start).line}`))
    expect(other.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([])
  })
})
