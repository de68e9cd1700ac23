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
 * in `dir`, written atomically, so a crash mid-write leaves no partial entry.
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

/** SHA-256 of a file, hex: how policies and caches name a model. @category utils */
export const fileSha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex')

/** Reads and decodes a policy file. @category constructors */
export const readPolicy = async (path: string): Promise<E.Either<PolicyError, Policy>> => {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (e) {
    return E.left(policyError('corrupt', `cannot read the policy file ${path}: ${e instanceof Error ? e.message : String(e)}`))
  }
  return E.mapLeft((err: PolicyError) => ({ ...err, message: `${path}: ${err.message}` }))(parsePolicyText(text))
}

/** Writes a policy file atomically. @category destructors */
export const writePolicy = (path: string, file: PolicyFile): Promise<E.Either<FileError, void>> => writeAtomic(path, encodePolicy(file))
