/**
 * Where the external services used by store, bus and lock tests live, and whether they
 * are up. Every service-backed test goes through this file so that:
 *
 * - the address of each service is written once (defaults below, overridable with
 *   `TIERCACHE_<NAME>_URL`, e.g. `TIERCACHE_REDIS_URL=redis://10.0.0.5:6379`);
 * - a developer without, say, etcd gets a clear "skipped: etcd unreachable at …" instead of
 *   a wall of connection errors;
 * - CI (`TIERCACHE_REQUIRE_SERVICES=1`, set by `.ci/run`) never passes by skipping: a
 *   service that is down there is a failed test naming the service and its URL.
 */
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { describe, it } from 'vitest'

/** The services tests can use; each maps to a `TIERCACHE_<NAME>_URL` variable. */
export type ServiceName = 'redis' | 'postgres' | 'mysql' | 'nats' | 'memcached' | 'etcd'

/** Every service, in the order `.ci/run` starts them. */
export const SERVICE_NAMES: readonly ServiceName[] = [
  'redis',
  'postgres',
  'mysql',
  'nats',
  'memcached',
  'etcd',
]

const DEFAULT_URLS: Readonly<Record<ServiceName, string>> = {
  redis: 'redis://127.0.0.1:6379',
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  mysql: 'mysql://root@127.0.0.1:3306/test',
  nats: 'nats://127.0.0.1:4222',
  memcached: 'memcached://127.0.0.1:11211',
  etcd: 'http://127.0.0.1:2379',
}

/** Port used when a URL from the environment leaves it out. */
const DEFAULT_PORTS: Readonly<Record<ServiceName, number>> = {
  redis: 6379,
  postgres: 5432,
  mysql: 3306,
  nats: 4222,
  memcached: 11211,
  etcd: 2379,
}

/**
 * The URL of a service: `TIERCACHE_<NAME>_URL` when set and non-empty, else the local default.
 *
 * @example
 * ```ts
 * serviceUrl('redis') // 'redis://127.0.0.1:6379' unless TIERCACHE_REDIS_URL is set
 * const store = redisStore({ url: serviceUrl('redis') })
 * ```
 */
export function serviceUrl(name: ServiceName): string {
  const fromEnv = process.env[`TIERCACHE_${name.toUpperCase()}_URL`]
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv.trim() : DEFAULT_URLS[name]
}

/**
 * The TCP host and port behind {@link serviceUrl}.
 *
 * @example
 * ```ts
 * serviceAddress('memcached') // { host: '127.0.0.1', port: 11211 }
 * ```
 */
export function serviceAddress(name: ServiceName): { host: string; port: number } {
  const url = new URL(serviceUrl(name))
  // URL keeps the brackets of an IPv6 literal ('[::1]'); net.connect wants them off.
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1') || '127.0.0.1'
  const port = url.port === '' ? DEFAULT_PORTS[name] : Number(url.port)
  return { host, port }
}

/**
 * Whether `TIERCACHE_REQUIRE_SERVICES=1` is set, i.e. a missing service must fail, not skip.
 *
 * @example
 * ```ts
 * if (!servicesRequired()) console.warn('service tests may be skipped')
 * ```
 */
export function servicesRequired(): boolean {
  return process.env.TIERCACHE_REQUIRE_SERVICES === '1'
}

/**
 * Whether a TCP connection to the service's host and port opens within `timeoutMs`.
 * Never rejects: refused, unresolvable and timed-out all mean `false`.
 *
 * @example
 * ```ts
 * if (await reachable('redis')) console.log('redis is up')
 * ```
 */
export async function reachable(name: ServiceName, timeoutMs = 1000): Promise<boolean> {
  const { host, port } = serviceAddress(name)
  return new Promise<boolean>((resolve) => {
    const socket = connect({ host, port })
    const done = (ok: boolean): void => {
      socket.removeAllListeners()
      socket.on('error', () => {}) // a late RST after destroy() must not become an uncaught error
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(timeoutMs, () => done(false))
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
  })
}

/**
 * Sends `request` over a raw TCP socket to the service and resolves with everything
 * received up to and including the first `\r\n` (or `\n`). For protocol smoke checks
 * such as Redis `PING` → `+PONG` or memcached `version` → `VERSION 1.6.18`.
 *
 * @example
 * ```ts
 * expect(await rawRequest('redis', 'PING\r\n')).toBe('+PONG\r\n')
 * ```
 */
export async function rawRequest(
  name: ServiceName,
  request: string,
  timeoutMs = 2000,
): Promise<string> {
  const { host, port } = serviceAddress(name)
  return new Promise<string>((resolve, reject) => {
    const socket: Socket = connect({ host, port })
    let received = ''
    const finish = (err: Error | undefined): void => {
      socket.removeAllListeners()
      socket.on('error', () => {})
      socket.destroy()
      if (err) reject(err)
      else resolve(received)
    }
    socket.setEncoding('utf8')
    socket.setTimeout(timeoutMs, () =>
      finish(
        new Error(
          `${name}: no complete reply within ${timeoutMs} ms (got ${JSON.stringify(received)})`,
        ),
      ),
    )
    socket.once('connect', () => socket.write(request))
    socket.on('data', (chunk: string) => {
      received += chunk
      const end = received.indexOf('\n')
      if (end !== -1) {
        received = received.slice(0, end + 1)
        finish(undefined)
      }
    })
    socket.once('error', (err) => finish(err))
    socket.once('end', () =>
      finish(
        new Error(
          `${name}: connection closed before a reply line (got ${JSON.stringify(received)})`,
        ),
      ),
    )
  })
}

/*
 * Why top-level await: vitest collects suites synchronously — `describe()` must know at
 * registration time whether its block runs, is skipped or fails, and
 * `describe.skipIf(cond)` takes a plain boolean. Reachability is asynchronous (a TCP
 * connect), so it is probed here, once per test file and in parallel for all services
 * (at most ~1 s when something is down), while the importing test file waits on this
 * module. By the time that file calls `describeWithService`, the answer is a plain
 * boolean. Vitest (ESM, Node ≥ 14.8) supports top-level await in test and helper files.
 */
const up: ReadonlyMap<ServiceName, boolean> = new Map(
  await Promise.all(SERVICE_NAMES.map(async (name) => [name, await reachable(name)] as const)),
)

/**
 * Whether the service answered the probe made when this helper was first imported
 * (synchronous; see the top-level await above).
 *
 * @example
 * ```ts
 * it.skipIf(!serviceUp('redis'))('uses redis', async () => {})
 * ```
 */
export function serviceUp(name: ServiceName): boolean {
  return up.get(name) ?? false
}

/**
 * `describe(title, fn)` for tests that need a running service.
 *
 * - Service reachable: a plain `describe`.
 * - Unreachable: the block is skipped, and its title says which service at which URL is
 *   missing and how to point tests elsewhere.
 * - Unreachable with `TIERCACHE_REQUIRE_SERVICES=1` (CI): the block's tests are not run;
 *   instead one failing test says the service is required but unreachable, so CI can
 *   never go green by skipping.
 *
 * @example
 * ```ts
 * describeWithService('redis', 'redisStore', () => {
 *   describeStoreConformance('redis', () => redisStore({ url: serviceUrl('redis') }))
 * })
 * ```
 */
export function describeWithService(name: ServiceName, title: string, fn: () => void): void {
  const url = serviceUrl(name)
  const isUp = serviceUp(name)
  if (!isUp && servicesRequired()) {
    describe(title, () => {
      it(`requires ${name} at ${url}`, () => {
        throw new Error(
          `${name} is required (TIERCACHE_REQUIRE_SERVICES=1) but unreachable at ${url}. ` +
            `Start it, or point TIERCACHE_${name.toUpperCase()}_URL at a running instance.`,
        )
      })
    })
    return
  }
  const reason = `${name} unreachable at ${url}; start it or set TIERCACHE_${name.toUpperCase()}_URL`
  // The title carries the reason into every reporter (and the JSON report); the warning
  // makes it visible with the default reporter, which does not list skipped suites.
  if (!isUp) console.warn(`skipping "${title}": ${reason}`)
  describe.skipIf(!isUp)(isUp ? title : `${title} [skipped: ${reason}]`, fn)
}
