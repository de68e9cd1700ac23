/**
 * Every TSDoc `@example` in src/ is compiled and run, as fp-ts does with docs-ts.
 *
 * An example is the text of a `/** … *\/` comment from an `@example` line up to the next `@tag` line
 * (or the end of the comment), with the leading ` * ` stripped. It imports from `'tta-lens'` (and
 * fp-ts), may use a global `assert` (node:assert) and top-level `await`. Each one becomes a module
 * under spec/docs/.generated/ (gitignored): `'tta-lens'` and its subpaths (`'tta-lens/node'`, …)
 * point at the source files that package.json's `exports` are built from, `assert` is
 * imported when the example uses it, the imports stay at the top and the rest is the body of the
 * default export, `async (): Promise<void> => { … }`.
 *
 * The generated modules are type-checked together with the compiler options of tsconfig.json (one
 * `ts.createProgram`, no emit), and each is imported and run in its own test named after the line of
 * its `@example` tag.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '../..')
const srcDir = join(root, 'src')
const outDir = join(here, '.generated')

/**
 * Each specifier the package exports (`tta-lens`, `tta-lens/node`, …) and the source module it is
 * built from, read from package.json's `exports` (`./dist/src/node.js` is built from src/node.ts,
 * imported here as src/node.js).
 */
const entryPoints = (): ReadonlyMap<string, string> => {
  const manifest: unknown = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const exportsField: unknown = typeof manifest === 'object' && manifest !== null ? Reflect.get(manifest, 'exports') : undefined
  const map = new Map<string, string>()
  for (const [subpath, target] of Object.entries(typeof exportsField === 'object' && exportsField !== null ? exportsField : {})) {
    const built: unknown = typeof target === 'object' && target !== null ? Reflect.get(target, 'default') : undefined
    if (typeof built !== 'string' || !built.startsWith('./dist/')) continue
    map.set(subpath === '.' ? 'tta-lens' : `tta-lens/${subpath.replace(/^\.\//, '')}`, join(root, built.replace(/^\.\/dist\//, '')))
  }
  return map
}
const entries = entryPoints()

/** At least this many examples must be found, so that the suite cannot pass vacuously. */
const MIN_EXAMPLES = 20

interface Example {
  /** Source file, relative to the repository root, with `/` separators. */
  readonly file: string
  /** 1-based line of the `@example` tag in `file`. */
  readonly line: number
  /** The example's code lines; `lines[k]` is line `sourceLines[k]` of `file`. */
  readonly lines: readonly string[]
  readonly sourceLines: readonly number[]
}

interface Generated {
  readonly example: Example
  readonly path: string
  readonly text: string
  /** For each line of the generated module (0-based), the source line it came from, if any. */
  readonly origin: readonly (number | undefined)[]
}

const posix = (p: string): string => p.split(sep).join('/')

const sourceFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  }).sort()

/** The `@example` blocks of one file. */
const examplesIn = (path: string): Example[] => {
  const file = posix(relative(root, path))
  const text = readFileSync(path, 'utf8')
  const examples: Example[] = []
  for (const comment of text.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    const firstLine = text.slice(0, comment.index).split('\n').length
    const lines = comment[0]
      .replace(/^\/\*\*/, '')
      .replace(/\*\/$/, '')
      .split('\n')
      .map((l) => l.replace(/^\s*\* ?/, '').replace(/\s+$/, ''))
    let current: { line: number; lines: string[]; sourceLines: number[] } | undefined
    const close = (): void => {
      if (current === undefined) return
      // Drop blank lines and Markdown fences at either end.
      while (current.lines.length > 0 && /^(```\w*)?$/.test(current.lines[current.lines.length - 1]!.trim())) {
        current.lines.pop()
        current.sourceLines.pop()
      }
      while (current.lines.length > 0 && /^(```\w*)?$/.test(current.lines[0]!.trim())) {
        current.lines.shift()
        current.sourceLines.shift()
      }
      examples.push({ file, ...current })
      current = undefined
    }
    lines.forEach((l, k) => {
      const tag = /^\s*(@\w+)(.*)$/.exec(l)
      if (tag !== null) {
        close()
        // Text after `@example` on the same line is a title, not code.
        if (tag[1] === '@example') current = { line: firstLine + k, lines: [], sourceLines: [] }
        return
      }
      if (current !== undefined) {
        current.lines.push(/^\s*```\w*\s*$/.test(l) ? '' : l)
        current.sourceLines.push(firstLine + k)
      }
    })
    close()
  }
  return examples
}

/** Does the code refer to a free `assert` (not `x.assert`, not a property name)? */
const usesAssert = (node: ts.Node): boolean =>
  (ts.isIdentifier(node) && node.text === 'assert'
    && !(ts.isPropertyAccessExpression(node.parent) && node.parent.name === node)
    && !(ts.isPropertyAssignment(node.parent) && node.parent.name === node))
  || (ts.forEachChild(node, (child) => (usesAssert(child) ? true : undefined)) ?? false)

/** Builds the module for one example, keeping a map from its lines back to the source. */
const generate = (example: Example): Generated => {
  const code = example.lines.join('\n')
  const parsed = ts.createSourceFile('example.ts', code, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)
  const importLines = new Set<number>()
  let importsAssert = false
  for (const statement of parsed.statements) {
    if (!ts.isImportDeclaration(statement)) continue
    const start = parsed.getLineAndCharacterOfPosition(statement.getStart(parsed)).line
    const end = parsed.getLineAndCharacterOfPosition(statement.getEnd()).line
    for (let k = start; k <= end; k++) importLines.add(k)
    const clause = statement.importClause
    if (clause?.name?.text === 'assert') importsAssert = true
    const bindings = clause?.namedBindings
    if (bindings !== undefined && ts.isNamespaceImport(bindings) && bindings.name.text === 'assert') importsAssert = true
    if (bindings !== undefined && ts.isNamedImports(bindings) && bindings.elements.some((e) => e.name.text === 'assert')) importsAssert = true
  }
  const name = `${example.file.replace(/^src\//, '').replace(/\.ts$/, '').replace(/[^\w]+/g, '_')}_L${example.line}.ts`
  const path = join(outDir, name)
  const rewrite = (l: string): string => l.replace(/(['"])(tta-lens(?:\/[\w-]+)?)\1/g, (whole, _quote: string, specifier: string) => {
    const target = entries.get(specifier)
    if (target === undefined) return whole // not an entry point: left for the compiler to reject
    const path = posix(relative(outDir, target))
    return `'${path.startsWith('.') ? path : `./${path}`}'`
  })

  const out: string[] = []
  const origin: (number | undefined)[] = []
  const emit = (l: string, from: number | undefined): void => {
    out.push(l)
    origin.push(from)
  }
  emit(`// Generated by spec/docs/examples.test.ts from the @example at ${example.file}:${example.line}. Do not edit.`, example.line)
  // `assert` is imported only where the example uses it: an unused import would fail noUnusedLocals.
  if (!importsAssert && usesAssert(parsed)) emit(`import assert from 'node:assert'`, example.line)
  example.lines.forEach((l, k) => {
    if (importLines.has(k)) emit(rewrite(l), example.sourceLines[k])
  })
  emit('', undefined)
  emit('export default async (): Promise<void> => {', example.line)
  example.lines.forEach((l, k) => {
    if (!importLines.has(k)) emit(l === '' ? '' : `  ${rewrite(l)}`, example.sourceLines[k])
  })
  emit('}', example.line)
  return { example, path, text: `${out.join('\n')}\n`, origin }
}

const examples = sourceFiles(srcDir).flatMap(examplesIn)
const generated = examples.map(generate)

// Write the modules, touching only those that changed (so that a concurrent run does not see a
// half-written file it already had), and remove the modules of examples that are gone.
mkdirSync(outDir, { recursive: true })
for (const g of generated) {
  if (!existsSync(g.path) || readFileSync(g.path, 'utf8') !== g.text) writeFileSync(g.path, g.text)
}
const wanted = new Set(generated.map((g) => g.path))
for (const entry of readdirSync(outDir)) {
  const path = join(outDir, entry)
  if (!wanted.has(path)) rmSync(path, { force: true, recursive: true })
}

const compilerOptions = (): ts.CompilerOptions => {
  const configPath = join(root, 'tsconfig.json')
  const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p))
  if (config.error !== undefined) throw new Error(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath)
  if (parsed.errors.length > 0) throw new Error(parsed.errors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n')).join('\n'))
  return { ...parsed.options, noEmit: true }
}

const describeDiagnostic = (d: ts.Diagnostic): string => {
  const message = ts.flattenDiagnosticMessageText(d.messageText, '\n')
  const g = d.file === undefined ? undefined : generated.find((x) => resolve(x.path) === resolve(d.file!.fileName))
  if (d.file === undefined || d.start === undefined) return `TS${d.code}: ${message}`
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start)
  if (g === undefined) return `${posix(relative(root, d.file.fileName))}:${line + 1}:${character + 1} TS${d.code}: ${message}`
  const from = g.origin[line] ?? g.example.line
  return `${g.example.file}:${from} (in the @example at ${g.example.file}:${g.example.line}) TS${d.code}: ${message}`
}

describe('TSDoc @examples', () => {
  it(`finds at least ${MIN_EXAMPLES} examples in src/`, () => {
    expect(examples.length).toBeGreaterThanOrEqual(MIN_EXAMPLES)
  })

  it("maps every entry point of package.json's exports to a source module", () => {
    expect(entries.get('tta-lens')).toBe(join(srcDir, 'index.js'))
    for (const target of entries.values()) expect(existsSync(target.replace(/\.js$/, '.ts'))).toBe(true)
  })

  it('type-check with the options of tsconfig.json', () => {
    const program = ts.createProgram(generated.map((g) => g.path), compilerOptions())
    const diagnostics = [
      ...program.getOptionsDiagnostics(),
      ...program.getGlobalDiagnostics(),
      ...generated.flatMap((g) => {
        const sf = program.getSourceFile(g.path)
        return sf === undefined ? [] : [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]
      }),
    ]
    expect(diagnostics.map(describeDiagnostic)).toEqual([])
  })

  describe('run', () => {
    for (const g of generated) {
      it(`${g.example.file}:${g.example.line}`, async () => {
        const module: unknown = await import(pathToFileURL(g.path).href)
        const run: unknown = typeof module === 'object' && module !== null && 'default' in module ? module.default : undefined
        if (typeof run !== 'function') throw new Error(`${g.path} has no default export to run`)
        await Reflect.apply(run, undefined, [])
      })
    }
  })
})
