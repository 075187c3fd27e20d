import { pageQuerySchema } from '@quarry/core';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';

export const idSchema = z.uuid({ message: 'must be a UUID' });

export class IdParam extends createZodDto(z.object({ id: idSchema }).strict()) {}
export class PageQueryDto extends createZodDto(pageQuerySchema) {}

export const emailSchema = z.email({ message: 'must be an email address' }).max(254);
/** Long enough to resist guessing; bounded so hashing cannot be used to burn CPU. */
export const passwordSchema = z.string().min(12, 'must be at least 12 characters').max(1024);
export const roleSchema = z.enum(['owner', 'admin', 'member', 'viewer']);

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export const errorBodySchema = z.object({
  code: z.string(),
  message: z.string(),
  requestId: z.string(),
  details: z.unknown().optional(),
});
export class ErrorBodyDto extends createZodDto(errorBodySchema) {}
