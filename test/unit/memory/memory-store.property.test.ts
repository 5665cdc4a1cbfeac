import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { memoryStore, type PolicyName } from '../../../src/index.js'

const POLICIES: PolicyName[] = ['lru', 'arc', 'tinylfu']

type Op =
  | { kind: 'write'; key: number; ttl: number }
  | { kind: 'read'; key: number }
  | { kind: 'remove'; key: number }
  | { kind: 'tick'; ms: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('write' as const),
    key: fc.integer({ min: 0, max: 60 }),
    ttl: fc.integer({ min: 0, max: 5_000 }),
  }),
  fc.record({ kind: fc.constant('read' as const), key: fc.integer({ min: 0, max: 60 }) }),
  fc.record({ kind: fc.constant('remove' as const), key: fc.integer({ min: 0, max: 60 }) }),
  fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 3_000 }) }),
)

describe.each(POLICIES)('memoryStore with policy %s (property)', (policy) => {
  it('keeps its bound and never returns an expired, evicted or deleted value', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(op, { maxLength: 400 }),
        (maxEntries, ops) => {
          const clock = { t: 1_000_000, now: () => clock.t }
          const store = memoryStore({ policy, maxEntries, clock })
          // What the store may hold: the last write of each key, while not deleted or evicted.
          const model = new Map<number, { value: number; expiresAt: number }>()
          store.onEvict((key) => model.delete(Number(key)))
          let version = 0
          for (const step of ops) {
            switch (step.kind) {
              case 'write': {
                const expiresAt = step.ttl === 0 ? 0 : clock.t + step.ttl
                model.set(step.key, { value: ++version, expiresAt })
                store.write(String(step.key), version, expiresAt)
                break
              }
              case 'read': {
                const got = store.read(String(step.key))
                const want = model.get(step.key)
                if (got !== undefined) {
                  expect(want).toBeDefined()
                  expect(got).toBe(want!.value)
                  expect(want!.expiresAt === 0 || want!.expiresAt > clock.t).toBe(true)
                } else if (want !== undefined) {
                  // A miss is allowed only when the entry expired.
                  expect(want.expiresAt !== 0 && want.expiresAt <= clock.t).toBe(true)
                }
                break
              }
              case 'remove':
                store.remove(String(step.key))
                model.delete(step.key)
                break
              case 'tick':
                clock.t += step.ms
                break
            }
            expect(store.size).toBeLessThanOrEqual(maxEntries)
          }
        },
      ),
      { numRuns: 200 },
    )
  })
})
