/**
 * The Standard Schema interface (https://standardschema.dev), copied as its
 * authors ask so that zod, valibot, arktype and others work without a dependency.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1
    readonly vendor: string
    readonly validate: (
      value: unknown,
    ) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>
    readonly types?: { readonly input: Input; readonly output: Output } | undefined
  }
}

/** The result of a Standard Schema validation: a value, or issues. */
export type StandardSchemaResult<Output> =
  | { readonly value: Output; readonly issues?: undefined }
  | { readonly issues: ReadonlyArray<{ readonly message: string }> }

/** What a schema check concluded: the (possibly transformed) value, or that it failed. */
export type SchemaOutcome<T> = { ok: true; value: T } | { ok: false }

/**
 * Validates `value` with a Standard Schema.
 *
 * @example
 * ```ts
 * const outcome = await checkSchema(z.object({ id: z.number() }), cached)
 * if (!outcome.ok) // treat as a miss
 * ```
 */
export async function checkSchema<T>(
  schema: StandardSchemaV1<unknown, T>,
  value: unknown,
): Promise<SchemaOutcome<T>> {
  const result = await schema['~standard'].validate(value)
  return result.issues === undefined ? { ok: true, value: result.value } : { ok: false }
}
