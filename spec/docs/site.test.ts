/**
 * The docs site (`npm run docs`, typedoc.json) is built without a single warning: typedoc runs
 * here with the project's own configuration, emitting nothing, and any warning fails the test
 * (typedoc.json also sets treatWarningsAsErrors, so `npm run docs` fails the same way). The site
 * documents every entry point package.json exports and every guide in docs/.
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const exec = promisify(execFile)
const root = fileURLToPath(new URL('../../', import.meta.url))
const json = (file: string): unknown => JSON.parse(readFileSync(join(root, file), 'utf8'))
const field = (value: unknown, key: string): unknown => (typeof value === 'object' && value !== null ? Reflect.get(value, key) : undefined)

describe('docs site', () => {
  it('covers every entry point of package.json and every guide in docs/', () => {
    const config = json('typedoc.json')
    const entryPoints = field(config, 'entryPoints')
    const exported = Object.values(field(json('package.json'), 'exports') ?? {})
      .map((target) => field(target, 'default'))
      .filter((t): t is string => typeof t === 'string' && t.startsWith('./dist/src/'))
      .map((t) => t.replace(/^\.\/dist\//, '').replace(/\.js$/, '.ts'))
    expect(exported.length).toBeGreaterThan(1)
    expect(Array.isArray(entryPoints) ? [...entryPoints].sort() : entryPoints).toEqual([...exported].sort())
    expect(field(config, 'projectDocuments')).toEqual(['docs/*.md'])
    expect(field(config, 'treatWarningsAsErrors')).toBe(true)
  })

  it('builds with 0 warnings', async () => {
    const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc')
    let output = ''
    let code = 0
    try {
      const { stdout, stderr } = await exec(process.execPath, [typedoc, '--emit', 'none'], { cwd: root, timeout: 240_000, env: { ...process.env, NO_COLOR: '1' } })
      output = `${stdout}${stderr}`
    } catch (e) {
      code = -1
      output = `${String(field(e, 'stdout') ?? '')}${String(field(e, 'stderr') ?? '')}`
    }
    expect(output.split('\n').filter((l) => /warning|error/i.test(l) && !/Found 0 errors and 0 warnings/.test(l))).toEqual([])
    expect(code).toBe(0)
  }, 300_000)
})
