import { describe, it } from 'vitest'
import { memoryStore } from '../../src/memory/memory-store.js'
import { faultyStore } from '../../src/testing/faulty-store.js'
import { ManualClock } from '../../src/testing/manual-clock.js'
import { describeStoreConformance } from '../../src/testing/store-conformance/index.js'

const runner = { describe, it }

describeStoreConformance('memoryStore', () => memoryStore(), { runner })

// The same suite on an injected clock: the ttl tests advance it instead of sleeping.
const clock = new ManualClock()
describeStoreConformance('memoryStore (manual clock)', () => memoryStore({ clock }), {
  runner,
  clock,
})

// The fault injector with every fault off must be the store it wraps.
const wrappedClock = new ManualClock()
describeStoreConformance(
  'faultyStore(memoryStore) with no faults',
  () => faultyStore(memoryStore({ clock: wrappedClock })),
  {
    runner,
    clock: wrappedClock,
  },
)
