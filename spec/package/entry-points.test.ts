/**
 * The package root (`tta-lens`, src/index.ts) runs anywhere JavaScript does: nothing it imports,
 * directly or through other modules, may be a Node built-in or a package that runs only in Node.
 * The browser edge (`tta-lens/web`, src/web.ts) obeys the same rule, with onnxruntime-web allowed.
 * This walks the import graph of the source (static imports, re-exports, `import()`, `require`)
 * from the root and fails on the first module that breaks the rule, naming the chain that led
 * there. Node-only code belongs behind `tta-lens/node` (src/node.ts).
 */
import { readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../../', import.meta.url))

/**
 * Packages the core may import: each runs in browsers (gpu.js through its `browser` build). A new
 * one goes here only if it does; anything else is Node's and belongs behind `tta-lens/node`.
 */
const BROWSER_SAFE = new Set(['fp-ts', 'io-ts', 'fast-check', 'gpu.js'])

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]))
const packageOf = (specifier: string): string => {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier)
}

interface Edge {
  readonly specifier: string
  /** Only types: erased at run time (still followed, so that no declaration needs a Node type). */
  readonly typeOnly: boolean
}

/** Every module specifier a file names, and whether each is a type-only import. */
const specifiersOf = (file: string): { readonly edges: readonly Edge[]; readonly computed: readonly string[] } => {
  const text = readFileSync(file, 'utf8')
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS)
  const edges: Edge[] = []
  const computed: string[] = []
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier !== undefined && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = ts.isImportDeclaration(node) ? node.importClause?.isTypeOnly === true : node.isTypeOnly
      edges.push({ specifier: node.moduleSpecifier.text, typeOnly })
    } else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) {
      const [argument] = node.arguments
      if (argument !== undefined && ts.isStringLiteralLike(argument)) edges.push({ specifier: argument.text, typeOnly: false })
      else computed.push(`${relative(root, file)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      edges.push({ specifier: node.argument.literal.text, typeOnly: true })
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return { edges, computed }
}

/** Walks the graph from `entry`; returns the rule breaks, each with the import chain to it. */
const walk = (entry: string, allowed: ReadonlySet<string> = BROWSER_SAFE): { readonly broken: readonly string[]; readonly computed: readonly string[]; readonly modules: number; readonly files: readonly string[] } => {
  const seen = new Map<string, readonly string[]>([[entry, [relative(root, entry)]]])
  const queue = [entry]
  const broken: string[] = []
  const computed: string[] = []
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const chain = seen.get(file) ?? []
    const found = specifiersOf(file)
    computed.push(...found.computed)
    for (const { specifier } of found.edges) {
      if (specifier.startsWith('.')) {
        const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))
        if (!seen.has(target)) {
          seen.set(target, [...chain, relative(root, target)])
          queue.push(target)
        }
      } else if (builtins.has(specifier)) {
        broken.push(`${[...chain].join(' → ')} imports the Node built-in '${specifier}'`)
      } else if (!allowed.has(packageOf(specifier))) {
        broken.push(`${[...chain].join(' → ')} imports '${specifier}', which is not on the browser-safe list`)
      }
    }
  }
  return { broken, computed, modules: seen.size, files: [...seen.keys()].map((f) => relative(root, f)) }
}

/** Modules of the Node-only queue entry (tta-lens/queue) and the batch runners behind it. */
const nodeOnlyQueue = (file: string): boolean => /^src\/(queue|batch)\//.test(file)

describe('entry points', () => {
  it('the package root reaches no Node built-in and no Node-only package', () => {
    const result = walk(join(root, 'src', 'index.ts'))
    expect(result.modules).toBeGreaterThan(30) // the walk really followed the graph
    expect(result.broken).toEqual([])
    expect(result.computed).toEqual([]) // an import() of a computed name could hide anything
  })

  it('tta-lens/web reaches no Node built-in and no Node-only package (onnxruntime-web is its own)', () => {
    const result = walk(join(root, 'src', 'web.ts'), new Set([...BROWSER_SAFE, 'onnxruntime-web']))
    expect(result.modules).toBeGreaterThan(5)
    expect(result.broken).toEqual([])
    expect(result.computed).toEqual([])
  })

  it('tta-lens/queue stays out of the core and tta-lens/web: neither reaches src/queue/ or src/batch/', () => {
    for (const entry of ['index.ts', 'web.ts']) {
      const result = walk(join(root, 'src', entry), new Set([...BROWSER_SAFE, 'onnxruntime-web']))
      expect(result.files.filter(nodeOnlyQueue), entry).toEqual([])
    }
  })

  it("tta-lens/queue is Node-only, and the walk says why (BullMQ, ioredis, Piscina's worker threads)", () => {
    const result = walk(join(root, 'src', 'queue', 'index.ts'))
    expect(result.files.filter(nodeOnlyQueue).length).toBeGreaterThan(5)
    const broken = result.broken.join('\n')
    expect(broken).toMatch(/imports 'bullmq', which is not on the browser-safe list/)
    expect(broken).toMatch(/imports 'ioredis', which is not on the browser-safe list/)
    expect(broken).toMatch(/imports 'piscina', which is not on the browser-safe list/)
  })

  it('the walk catches a Node import, here in tta-lens/node', () => {
    const result = walk(join(root, 'src', 'node.ts'))
    expect(result.broken.join('\n')).toMatch(/src\/node\.ts → src\/backend\/onnx\.ts imports 'onnxruntime-node'/)
    expect(result.broken.join('\n')).toMatch(/imports the Node built-in 'node:fs\/promises'/)
  })
})
