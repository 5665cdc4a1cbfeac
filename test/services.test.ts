/**
 * Smoke test of the environment: every external service the store, bus and lock tests use
 * is reachable where `test/helpers/services.ts` says it is. Locally, a service that is down
 * skips its block; under `TIERCACHE_REQUIRE_SERVICES=1` (CI) it fails, so a broken CI
 * machine shows up here, by name, rather than as a pile of driver errors elsewhere.
 */
import { expect, it } from 'vitest'
import {
  SERVICE_NAMES,
  describeWithService,
  rawRequest,
  reachable,
  serviceUrl,
} from './helpers/services.js'

for (const name of SERVICE_NAMES) {
  describeWithService(name, `service ${name}`, () => {
    it(`accepts a TCP connection at ${serviceUrl(name)}`, async () => {
      expect(await reachable(name, 2000)).toBe(true)
    })

    if (name === 'redis') {
      it('answers PING with +PONG (RESP inline command)', async () => {
        expect(await rawRequest('redis', 'PING\r\n')).toBe('+PONG\r\n')
      })
    }

    if (name === 'memcached') {
      it('answers version with VERSION (text protocol)', async () => {
        expect(await rawRequest('memcached', 'version\r\n')).toMatch(/^VERSION \S+\r\n$/)
      })
    }
  })
}
