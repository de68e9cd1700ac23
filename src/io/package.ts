/**
 * Where the tta-lens package lives on disk, for the files it ships beside its code (`assets/`,
 * `package.json`). The source runs from `src/…` and the build from `dist/src/…`, one folder deeper,
 * so paths are found by walking up to the package's own `package.json` rather than by counting
 * `../`.
 *
 * @since 0.3.0
 */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const PACKAGE_NAME = 'tta-lens'

/** The `name` and `version` fields of a package.json, or undefined where the file is not one. */
const readManifest = (path: string): { readonly name: string; readonly version: string } | undefined => {
  try {
    const json: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (typeof json !== 'object' || json === null) return undefined
    const name: unknown = Reflect.get(json, 'name')
    const version: unknown = Reflect.get(json, 'version')
    return typeof name === 'string' && typeof version === 'string' ? { name, version } : undefined
  } catch {
    return undefined
  }
}

/** The nearest folder at or above `from` whose package.json is tta-lens's. */
const findRoot = (from: string): string | undefined => {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (existsSync(manifest) && readManifest(manifest)?.name === PACKAGE_NAME) return dir
    if (dirname(dir) === dir) return undefined
  }
}

const here = dirname(fileURLToPath(import.meta.url))

/**
 * The folder of the tta-lens package (the repository in a checkout, `node_modules/tta-lens` when
 * installed), with a trailing separator.
 * @example
 * import { existsSync } from 'node:fs'
 * import { PACKAGE_ROOT } from 'tta-lens/node'
 * assert.ok(existsSync(`${PACKAGE_ROOT}package.json`))
 * @category constructors
 */
export const PACKAGE_ROOT: string = `${findRoot(here) ?? join(here, '..', '..')}/`.replace(/\/+$/, '/')

/**
 * A file the package ships under `assets/`, as an absolute path.
 * @example
 * import { existsSync } from 'node:fs'
 * import { assetPath } from 'tta-lens/node'
 * assert.ok(existsSync(assetPath('fashion-mnist/cnn_aug.onnx')))
 * @category constructors
 */
export const assetPath = (relative: string): string => join(PACKAGE_ROOT, 'assets', relative)

/**
 * The package's version, from its package.json.
 * @example
 * import { packageVersion } from 'tta-lens/node'
 * assert.match(packageVersion(), /^\d+\.\d+\.\d+/)
 * @category constructors
 */
export const packageVersion = (): string => readManifest(join(PACKAGE_ROOT, 'package.json'))?.version ?? '0.0.0'
