/**
 * Node-only edges of the policy search: a prediction store in a folder (so an interrupted search
 * rerun reuses the views it already ran), and reading / writing policy files (atomically: a policy
 * file is never left half-written). The search and the policy format themselves are pure and live
 * in `src/policy`.
 *
 * @since 0.4.0
 */
import { createHash } from 'node:crypto'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import { policyError, type FileError, type PolicyError } from '../errors.js'
import type { PredictionStore } from '../policy/collect.js'
import { encodePolicy, parsePolicyText, type Policy, type PolicyFile } from '../policy/policy.js'
import { writeAtomic } from './files.js'

/**
 * A store that keeps each view's outputs as a file `<sha256 of key>.f32` (little-endian float32)
 * in `dir`, written atomically, so a crash mid-write leaves no partial entry: give it to
 * `collectPredictions` and an interrupted search, rerun, reuses what it already computed.
 * @example
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import { folderStore } from 'tta-lens/node'
 * const dir = join(mkdtempSync(join(tmpdir(), 'tta-store-')), 'cache')
 * await folderStore(dir).write('view A', Float32Array.of(1, 2, 3))
 * assert.deepStrictEqual(Array.from((await folderStore(dir).read('view A')) ?? []), [1, 2, 3])   // a new store, same folder
 * assert.strictEqual(await folderStore(dir).read('view B'), undefined)
 * @category constructors
 */
export const folderStore = (dir: string): PredictionStore => {
  const path = (key: string): string => join(dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.f32`)
  return {
    read: async (key) => {
      try {
        const bytes = await readFile(path(key))
        if (bytes.byteLength % 4 !== 0) return undefined
        const values = new Float32Array(bytes.byteLength / 4)
        new Uint8Array(values.buffer).set(bytes)
        return values
      } catch {
        return undefined
      }
    },
    // A cache entry that cannot be written is only a lost saving: the search goes on without it.
    write: async (key, values) => {
      try {
        await mkdir(dir, { recursive: true })
        await writeAtomic(path(key), new Uint8Array(values.buffer, values.byteOffset, values.byteLength))
      } catch {
        // the next run recomputes this view
      }
    },
  }
}

/**
 * SHA-256 of a file, hex: how policies and caches name a model.
 * @example
 * import { assetPath, fileSha256 } from 'tta-lens/node'
 * assert.strictEqual(await fileSha256(assetPath('fashion-mnist/t10k-labels-idx1-ubyte.gz')), '8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05')
 * @category utils
 */
export const fileSha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex')

/**
 * Reads and decodes a policy file; the error names the file.
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { assetPath, readPolicy } from 'tta-lens/node'
 * const policy = await readPolicy(assetPath('fashion-mnist/policy-cnn_aug.json'))
 * assert.ok(E.isRight(policy) && policy.right.model.classes === 10)
 * const missing = await readPolicy('no-such-policy.json')
 * assert.ok(E.isLeft(missing) && missing.left.problem === 'corrupt' && missing.left.message.includes('no-such-policy.json'))
 * @category constructors
 */
export const readPolicy = async (path: string): Promise<E.Either<PolicyError, Policy>> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    return E.left(policyError('corrupt', `cannot read the policy file ${path}: ${e instanceof Error ? e.message : String(e)}`))
  }
  return E.mapLeft((err: PolicyError) => ({ ...err, message: `${path}: ${err.message}` }))(parsePolicyText(text))
}

/**
 * Writes a policy file atomically (a temporary file, then a rename).
 * @example
 * import * as E from 'fp-ts/lib/Either.js'
 * import { mkdtempSync } from 'node:fs'
 * import { tmpdir } from 'node:os'
 * import { join } from 'node:path'
 * import { readPolicy, writePolicy } from 'tta-lens/node'
 * const path = join(mkdtempSync(join(tmpdir(), 'tta-policy-')), 'p.json')
 * const written = await writePolicy(path, {
 *   format: 'tta-lens-policy', version: 1, task: 'classification',
 *   model: { input: [1, 4, 4], classes: 2, scores: 'logits' },
 *   views: [{ name: 'identity', ops: [] }], merge: { mode: 'mean', over: 'logits', temperature: 1 },
 * })
 * assert.ok(E.isRight(written) && E.isRight(await readPolicy(path)))
 * @category destructors
 */
export const writePolicy = (path: string, file: PolicyFile): Promise<E.Either<FileError, void>> => writeAtomic(path, encodePolicy(file))
