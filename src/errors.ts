/**
 * Every error tiercache throws is a {@link TierCacheError} with a stable `code`,
 * so callers can branch on `err.code` or on `instanceof` without parsing messages.
 * Messages name the option or argument to change.
 */

/** Stable machine-readable codes, one per error class. */
export type TierCacheErrorCode =
  | 'E_INVALID_KEY'
  | 'E_INVALID_ARGUMENT'
  | 'E_WRONG_TYPE'
  | 'E_VALUE_TOO_LARGE'
  | 'E_SERIALIZATION'
  | 'E_DECRYPTION'
  | 'E_TIMEOUT'
  | 'E_STORE_UNAVAILABLE'
  | 'E_UNSUPPORTED_OPERATION'
  | 'E_LOCK_NOT_ACQUIRED'
  | 'E_LOCK_LOST'
  | 'E_CLOSED'

/**
 * Base class of every error thrown by tiercache.
 *
 * @example
 * ```ts
 * try { await cache.get('') } catch (err) {
 *   if (err instanceof TierCacheError) console.log(err.code) // 'E_INVALID_KEY'
 * }
 * ```
 */
export class TierCacheError extends Error {
  readonly code: TierCacheErrorCode
  constructor(code: TierCacheErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/**
 * A key is not a non-empty, well-formed string of at most 1024 UTF-8 bytes.
 * Thrown before any work, so nothing stored changes.
 *
 * @example
 * ```ts
 * await cache.get('') // rejects with InvalidKeyError
 * ```
 */
export class InvalidKeyError extends TierCacheError {
  constructor(message: string) {
    super('E_INVALID_KEY', message)
  }
}

/**
 * An argument or option is invalid: an `undefined` value, a negative or unparsable
 * duration, a non-integer delta. Thrown before any work.
 *
 * @example
 * ```ts
 * await cache.set('k', 1, { ttl: 'soon' }) // rejects with InvalidArgumentError
 * ```
 */
export class InvalidArgumentError extends TierCacheError {
  constructor(message: string) {
    super('E_INVALID_ARGUMENT', message)
  }
}

/**
 * The value stored under a key has the wrong type for the operation, such as
 * `increment` on a key holding a string. The stored value is left as it was.
 *
 * @example
 * ```ts
 * await cache.set('k', 'text')
 * await cache.increment('k') // rejects with WrongTypeError
 * ```
 */
export class WrongTypeError extends TierCacheError {
  constructor(message: string) {
    super('E_WRONG_TYPE', message)
  }
}

/**
 * A value's encoded size is above `maxValueBytes`; nothing was written.
 *
 * @example
 * ```ts
 * err instanceof ValueTooLargeError && console.log(err.size, err.limit)
 * ```
 */
export class ValueTooLargeError extends TierCacheError {
  readonly size: number
  readonly limit: number
  constructor(key: string, size: number, limit: number) {
    super(
      'E_VALUE_TOO_LARGE',
      `The value for key '${key}' is ${size} bytes, above maxValueBytes (${limit}). Raise "maxValueBytes" or store less.`,
    )
    this.size = size
    this.limit = limit
  }
}

/**
 * Bytes read from a tier could not be decoded. The cache treats such a value as a miss.
 *
 * @example
 * ```ts
 * cache.on('error', ({ error }) => error instanceof SerializationError && report(error))
 * ```
 */
export class SerializationError extends TierCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_SERIALIZATION', message, options)
  }
}

/**
 * An encrypted value could not be decrypted (wrong key, tampered bytes, or moved
 * under another key). The cache treats such a value as a miss.
 *
 * @example
 * ```ts
 * cache.on('error', ({ error }) => error instanceof DecryptionError && alert(error))
 * ```
 */
export class DecryptionError extends TierCacheError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('E_DECRYPTION', message, options)
  }
}

/**
 * An operation took longer than its time limit (a loader past `timeouts.hard`).
 *
 * @example
 * ```ts
 * err instanceof TimeoutError && console.log(err.timeout)
 * ```
 */
export class TimeoutError extends TierCacheError {
  readonly timeout: number
  constructor(message: string, timeout: number) {
    super('E_TIMEOUT', message)
    this.timeout = timeout
  }
}

/**
 * A tier's server could not be reached or failed; `cause` holds the client's error.
 *
 * @example
 * ```ts
 * err instanceof StoreUnavailableError && console.log(err.store, err.cause)
 * ```
 */
export class StoreUnavailableError extends TierCacheError {
  readonly store: string
  constructor(store: string, message: string, options?: { cause?: unknown }) {
    super('E_STORE_UNAVAILABLE', message, options)
    this.store = store
  }
}

/**
 * The store does not support this operation; its `capabilities` say so.
 *
 * @example
 * ```ts
 * if (!store.capabilities.list) { /* keys() would throw UnsupportedOperationError *\/ }
 * ```
 */
export class UnsupportedOperationError extends TierCacheError {
  constructor(message: string) {
    super('E_UNSUPPORTED_OPERATION', message)
  }
}

/**
 * A lock could not be acquired within its `wait`.
 *
 * @example
 * ```ts
 * err instanceof LockNotAcquiredError && retryLater()
 * ```
 */
export class LockNotAcquiredError extends TierCacheError {
  constructor(message: string) {
    super('E_LOCK_NOT_ACQUIRED', message)
  }
}

/**
 * A lock's lease was lost while its holder still worked.
 *
 * @example
 * ```ts
 * err instanceof LockLostError && rollback()
 * ```
 */
export class LockLostError extends TierCacheError {
  constructor(message: string) {
    super('E_LOCK_LOST', message)
  }
}

/**
 * The cache or store was closed; no further calls are accepted.
 *
 * @example
 * ```ts
 * await cache.close()
 * await cache.get('k') // rejects with ClosedError
 * ```
 */
export class ClosedError extends TierCacheError {
  constructor(what: string) {
    super('E_CLOSED', `The ${what} is closed; create a new one to go on.`)
  }
}

/** Every error class by its code, for logging and for `switch (err.code)`. */
export const errors = {
  E_INVALID_KEY: InvalidKeyError,
  E_INVALID_ARGUMENT: InvalidArgumentError,
  E_WRONG_TYPE: WrongTypeError,
  E_VALUE_TOO_LARGE: ValueTooLargeError,
  E_SERIALIZATION: SerializationError,
  E_DECRYPTION: DecryptionError,
  E_TIMEOUT: TimeoutError,
  E_STORE_UNAVAILABLE: StoreUnavailableError,
  E_UNSUPPORTED_OPERATION: UnsupportedOperationError,
  E_LOCK_NOT_ACQUIRED: LockNotAcquiredError,
  E_LOCK_LOST: LockLostError,
  E_CLOSED: ClosedError,
} as const satisfies Record<TierCacheErrorCode, unknown>
