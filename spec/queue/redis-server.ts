/**
 * A real Redis for the queue suites: Debian's `redis-server`, started by the test on a free loopback
 * port with its data in a temporary folder (append-only file, fsync on every write, so that a
 * restart keeps every job), and stopped by it. Where it cannot start, the suites are skipped with the
 * reason in their title — except under CI (`CI` set), where .ci/run installs it and a Redis that does
 * not start is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly dir: string
  /** Kills the server with SIGKILL (no shutdown save: only the append-only file keeps data) and waits for it to exit. */
  readonly kill: () => Promise<void>
  /** Starts it again on the same port and folder; resolves when it accepts connections. */
  readonly restart: () => Promise<void>
  /** Stops it and removes its folder. */
  readonly stop: () => Promise<void>
}

const freePort = (): Promise<number> => new Promise((resolve, reject) => {
  const server = createServer()
  server.once('error', reject)
  server.listen(0, '127.0.0.1', () => {
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : 0
    server.close(() => resolve(port))
  })
})

/** Why Redis cannot be used here, or undefined when `redis-server` is on the PATH. */
export const redisMissing = (): string | undefined => {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  return found.error !== undefined || found.status !== 0 ? 'redis-server is not installed (apt-get install -y redis-server)' : undefined
}

const launch = (port: number, dir: string, extra: readonly string[]): Promise<ChildProcess> => new Promise((resolve, reject) => {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes',
    '--appendfsync', 'always', '--protected-mode', 'yes', '--daemonize', 'no', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`redis-server did not start in 20 s: ${out}`)) }, 20_000)
  child.stdout?.on('data', (b: Buffer) => {
    out += b.toString()
    if (/Ready to accept connections/.test(out)) { clearTimeout(timer); resolve(child) }
  })
  child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`redis-server exited with ${code}: ${out.slice(-400)}`)) })
})

/** Starts a Redis on a free loopback port; `extra` are more redis-server arguments (`--requirepass x`). */
export const startRedis = async (extra: readonly string[] = []): Promise<RedisServer> => {
  const dir = await mkdtemp(join(tmpdir(), 'tta-redis-'))
  const port = await freePort()
  let child = await launch(port, dir, extra)
  const exited = (c: ChildProcess): Promise<void> => new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) return resolve()
    c.once('exit', () => resolve())
  })
  const kill = async (): Promise<void> => {
    const c = child
    c.kill('SIGKILL')
    await exited(c)
  }
  return {
    port, dir, url: `redis://127.0.0.1:${port}`,
    kill,
    restart: async () => { child = await launch(port, dir, extra) },
    stop: async () => {
      await kill()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** The reason to skip, or undefined; under CI a missing Redis is not a reason to skip. */
export const skipReason = (): string | undefined => {
  const missing = redisMissing()
  if (missing !== undefined && process.env['CI'] !== undefined && process.env['CI'] !== '') {
    throw new Error(`the queue suites need Redis under CI: ${missing}`)
  }
  return missing
}
