/** tiercache with a single memory tier, through the public facade (DESIGN §2). */

import { createCache, memoryStore } from '../src/index.js'
import { MAX_ENTRIES, type Contender } from './contenders.js'

export function tiercacheContender(): Contender {
  const cache = createCache({ tiers: [memoryStore({ maxEntries: MAX_ENTRIES })] })
  return {
    name: 'tiercache (memoryStore)',
    kind: 'tiercache',
    get: (key) => cache.get(key),
    set: (key, value) => cache.set(key, value),
    getOrSetWith: (loader) => (key) => cache.getOrSet(key, loader),
    close: () => cache.close(),
  }
}
