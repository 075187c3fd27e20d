import { Prisma } from './prisma';

/**
 * The SQLSTATE behind a failed query, wherever the layers put it: Prisma's own codes for model queries,
 * the driver adapter's cause for raw queries and data errors, or a pg error itself.
 */
export function postgresErrorCode(error: unknown): string | undefined {
  if (error instanceof Prisma.PrismaClientKnownRequestError) {
    const cause = (error.meta as { driverAdapterError?: { cause?: { originalCode?: unknown; code?: unknown } } } | undefined)
      ?.driverAdapterError?.cause;
    const code = cause?.originalCode ?? cause?.code;
    if (typeof code === 'string') return code;
  }
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function prismaCode(error: unknown): string | undefined {
  return error instanceof Prisma.PrismaClientKnownRequestError ? error.code : undefined;
}

/** A write broke a unique constraint. */
export function isUniqueViolation(error: unknown): boolean {
  return prismaCode(error) === 'P2002' || postgresErrorCode(error) === '23505';
}

/** A write pointed at a row that does not exist (foreign key, or record to update not found). */
export function isMissingReference(error: unknown): boolean {
  const code = prismaCode(error);
  return code === 'P2003' || code === 'P2025' || postgresErrorCode(error) === '23503';
}

/**
 * A value the database cannot store or compare (SQLSTATE class 22: NUL bytes in text, dates out of
 * range, malformed numbers): the client's input, not our failure.
 */
export function isInvalidValue(error: unknown): boolean {
  return postgresErrorCode(error)?.startsWith('22') ?? false;
}
