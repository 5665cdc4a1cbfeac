/** A promise resolved or rejected from outside: race tests hold loaders on these instead of sleeping. */
export interface Deferred<T> {
  promise: Promise<T>
  resolve(value: T): void
  reject(error: unknown): void
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** Lets every queued microtask and one macrotask run. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}
