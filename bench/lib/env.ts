/** The machine and versions a benchmark ran on. */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import os from 'node:os'

const root = new URL('../../', import.meta.url)

const versionOf = (pkg: string): string => {
  try {
    const json: unknown = JSON.parse(readFileSync(new URL(`node_modules/${pkg}/package.json`, root), 'utf8'))
    return typeof json === 'object' && json !== null && 'version' in json && typeof json.version === 'string' ? json.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

const gitHead = (): string => {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== ''
    return `${head}${dirty ? ' + uncommitted changes' : ''}`
  } catch {
    return 'unknown'
  }
}

export interface Environment {
  readonly cpu: string
  readonly cores: number
  readonly memory: string
  readonly node: string
  readonly onnxruntime: string
  readonly gpujs: string
  readonly platform: string
  readonly date: string
  readonly commit: string
  readonly loadBefore: readonly number[]
}

export const environment = (): Environment => ({
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.cpus().length,
  memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
  node: process.version,
  onnxruntime: versionOf('onnxruntime-node'),
  gpujs: versionOf('gpu.js'),
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  date: new Date().toISOString(),
  commit: gitHead(),
  loadBefore: os.loadavg(),
})

export const loadavg = (): string => os.loadavg().map((x) => x.toFixed(2)).join(' / ')
