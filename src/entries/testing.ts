/**
 * `tiercache/testing`: what a store author or an application's tests need to check
 * their own code against tiercache's contracts.
 *
 * @example
 * ```ts
 * import { describeStoreConformance, ManualClock } from 'tiercache/testing'
 * ```
 */
export {
  describeStoreConformance,
  type StoreConformanceGroup,
  type StoreConformanceOptions,
  type StoreConformanceRunner,
  type StoreFactory,
  type StoreFactoryContext,
} from '../testing/store-conformance/index.js'
export { ManualClock } from '../testing/manual-clock.js'
export {
  describeCodecConformance,
  type CodecConformanceOptions,
  type SerializerFactory,
  type SerializerSupport,
} from '../testing/codec-conformance.js'
export { FaultyStore, faultyStore } from '../testing/faulty-store.js'
