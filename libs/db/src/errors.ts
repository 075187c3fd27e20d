import { Prisma } from './prisma';

/** True when a write broke a unique constraint (Prisma P2002 or Postgres 23505 through raw SQL). */
export function isUniqueViolation(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === 'P2002';
  return hasPgCode(error, '23505');
}

/** True when a write pointed at a row that does not exist (P2003 foreign key / P2025 record not found). */
export function isMissingReference(error: unknown): boolean {
  if (error instanceof Prisma.PrismaClientKnownRequestError) return error.code === 'P2003' || error.code === 'P2025';
  return hasPgCode(error, '23503');
}

function hasPgCode(error: unknown, code: string): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth += 1) {
    if ((current as { code?: unknown }).code === code) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
