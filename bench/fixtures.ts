/**
 * Shared data for the L1 benchmarks: every contender gets the same keys, the same
 * values and the same (shuffled, cycling) access order.
 */

export interface User {
  id: number
  name: string
  email: string
  tags: string[]
  score: number
}

/** A small deterministic PRNG (mulberry32), so every run uses the same order. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A value of about 100 bytes as JSON. */
export function makeUser(i: number, variant = 0): User {
  const n = String(i).padStart(5, '0')
  return {
    id: i,
    name: `User ${n}`,
    email: `user${n}@example.com`,
    tags: variant === 0 ? ['alpha', 'beta', 'gamma'] : ['delta', 'epsilon', 'zeta'],
    score: ((i * 7919) % 10_000) / 100,
  }
}

export interface Dataset {
  keys: string[]
  /** Values the caches are prefilled with (and that `get` must return). */
  values: User[]
  /** Different objects of the same shape, written by the `set` benchmark. */
  altValues: User[]
  /** Indexes into `keys`, shuffled once; benchmarks cycle through it. */
  order: Uint32Array
}

export function makeDataset(count: number, seed = 42): Dataset {
  const keys: string[] = []
  const values: User[] = []
  const altValues: User[] = []
  for (let i = 0; i < count; i++) {
    keys.push(`user:${i}`)
    values.push(makeUser(i, 0))
    altValues.push(makeUser(i, 1))
  }
  const order = new Uint32Array(count)
  for (let i = 0; i < count; i++) order[i] = i
  const random = mulberry32(seed)
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    const t = order[i]!
    order[i] = order[j]!
    order[j] = t
  }
  return { keys, values, altValues, order }
}
