import { describe, expect, it } from 'vitest'
import { LruPolicy } from '../../../src/memory/lru.js'

describe('LruPolicy', () => {
  it('evicts the least recently used slot', () => {
    const lru = new LruPolicy(4)
    expect(lru.victim()).toBe(-1)
    lru.insert(0)
    lru.insert(1)
    lru.insert(2)
    expect(lru.victim()).toBe(0)
    lru.touch(0)
    expect(lru.victim()).toBe(1)
    lru.remove(1)
    expect(lru.victim()).toBe(2)
    lru.touch(2)
    expect(lru.victim()).toBe(0)
  })

  it('keeps its order when it grows', () => {
    const lru = new LruPolicy(2)
    lru.insert(1)
    lru.insert(0)
    lru.grow(8)
    lru.insert(5)
    lru.remove(1)
    expect(lru.victim()).toBe(0)
    lru.remove(0)
    expect(lru.victim()).toBe(5)
    lru.remove(5)
    expect(lru.victim()).toBe(-1)
  })

  it('matches a reference model over random operations', () => {
    const capacity = 64
    const lru = new LruPolicy(capacity)
    const model: number[] = [] // least recent first
    let seed = 42
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 20_000; i++) {
      const slot = random(capacity)
      const at = model.indexOf(slot)
      const op = random(3)
      if (at === -1) {
        lru.insert(slot)
        model.push(slot)
      } else if (op === 0) {
        lru.remove(slot)
        model.splice(at, 1)
      } else {
        lru.touch(slot)
        model.splice(at, 1)
        model.push(slot)
      }
      expect(lru.victim()).toBe(model[0] ?? -1)
    }
  })
})
