/**
 * `tiercache/dynamodb`: the DynamoDB store. Kept out of the core import so that
 * `@aws-sdk/client-dynamodb`, an optional peer dependency, is loaded only by applications
 * that use it.
 *
 * @example
 * ```ts
 * import { createCache, memoryStore } from 'tiercache'
 * import { dynamoStore } from 'tiercache/dynamodb'
 *
 * const cache = createCache({
 *   tiers: [memoryStore(), dynamoStore({ table: 'cache', region: 'eu-west-1' })],
 * })
 * ```
 */
export { dynamoStore, DynamoStore, type DynamoStoreOptions } from '../stores/dynamodb.js'
