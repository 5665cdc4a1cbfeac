/**
 * Duplicate-call suppression: one load per key at a time, shared by every caller
 * that asks meanwhile (groupcache's singleflight), with cancellation that belongs
 * to each caller.
 *
 * A flight's `signal` aborts only when every caller that joined it has given up:
 * callers without a signal never give up, so one patient caller keeps the load
 * going for all. A caller's own abort rejects that caller alone.
 */

/** One in-progress load, shared by its callers. */
export class Flight<T> {
  /** The shared result; set by {@link Flight.start}. */
  promise!: Promise<T>
  /** Set when a newer write or delete of the key made this load's result stale: it is returned, not stored. */
  superseded = false
  /** True while the flight was started by `refresh` (a forced reload joins only such flights). */
  readonly forced: boolean
  /** Set by the load when a remote tier answered instead of the loader: that tier's index (1 = first after L1). */
  remoteTier = 0
  readonly #controller = new AbortController()
  #active = 0
  #onIdle: (() => void) | undefined

  /**
   * @param forced the flight is a forced reload (`refresh`)
   * @param onIdle called instead of aborting when every caller has left (a batch
   *   aborts its shared load only when all of its keys are idle)
   */
  constructor(forced = false, onIdle?: () => void) {
    this.forced = forced
    this.#onIdle = onIdle
  }

  /**
   * Starts the load. Separate from the constructor so that `run` can refer to the
   * flight (to see whether it was superseded) once it resumes.
   */
  start(run: (signal: AbortSignal) => Promise<T>): this {
    this.promise = run(this.#controller.signal)
    // Every caller may have left before the load settles; its rejection is then nobody's.
    this.promise.catch(noop)
    return this
  }

  /** The signal handed to the loader. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** A caller joined. */
  retain(): void {
    this.#active++
  }

  /** A caller left before the result; the last one out aborts the load. */
  release(reason?: unknown): void {
    if (--this.#active !== 0) return
    if (this.#onIdle !== undefined) this.#onIdle()
    else this.#controller.abort(reason)
  }

  /** Aborts the load now, whoever waits (used by batch flights whose every key went idle). */
  abort(reason?: unknown): void {
    this.#controller.abort(reason)
  }
}

/**
 * Waits for every flight in `flights`, rejecting early (for this caller only) when
 * `signal` aborts. One abort listener per caller, whatever the number of flights,
 * so 10 000 joined callers never trip the listener-leak warning.
 *
 * @example
 * ```ts
 * const [value] = await joinFlights([flight], request.signal)
 * ```
 */
export function joinFlights<T>(
  flights: ReadonlyArray<Flight<T>>,
  signal: AbortSignal | undefined,
): Promise<T[]> {
  for (const flight of flights) flight.retain()
  const all =
    flights.length === 1 ? flights[0]!.promise.then(one) : Promise.all(flights.map(promiseOf))
  if (signal === undefined) return all
  if (signal.aborted) {
    for (const flight of flights) flight.release(signal.reason)
    return Promise.reject(abortReason(signal))
  }
  return new Promise<T[]>((resolve, reject) => {
    const stop = whenAborted(signal, () => {
      for (const flight of flights) flight.release(signal.reason)
      reject(abortReason(signal))
    })
    all.then(
      (values) => {
        stop()
        resolve(values)
      },
      (error: unknown) => {
        stop()
        reject(error)
      },
    )
  })
}

/**
 * One 'abort' listener per signal, whatever the number of calls waiting on it: a
 * request that shares its signal with 1000 concurrent cache calls must not trip
 * node's listener-leak warning. Returns a function that stops listening.
 */
function whenAborted(signal: AbortSignal, callback: () => void): () => void {
  let callbacks = abortCallbacks.get(signal)
  if (callbacks === undefined) {
    const set = new Set<() => void>()
    callbacks = set
    abortCallbacks.set(signal, set)
    signal.addEventListener(
      'abort',
      () => {
        abortCallbacks.delete(signal)
        for (const fn of set) fn()
      },
      { once: true },
    )
  }
  callbacks.add(callback)
  const registered = callbacks
  return () => {
    registered.delete(callback)
  }
}

const abortCallbacks = new WeakMap<AbortSignal, Set<() => void>>()

/** The signal's reason, or a standard AbortError when it has none. */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException('This operation was aborted', 'AbortError')
}

function one<T>(value: T): T[] {
  return [value]
}

function promiseOf<T>(flight: Flight<T>): Promise<T> {
  return flight.promise
}

function noop(): void {}
