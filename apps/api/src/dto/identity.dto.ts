import { allPermissions } from '@quarry/identity';
import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { emailSchema, idSchema, pageSchema, passwordSchema, roleSchema } from './common.dto';

export const tenantSlugSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'must be 2-63 lower-case letters, digits or dashes, starting with a letter or digit');

/** ISO 8601 with offset, within the years Postgres and people use. */
export const isoDate = z.iso
  .datetime({ offset: true })
  .refine((value) => {
    const time = Date.parse(value);
    // An unparseable value already failed the format check above; report it once.
    if (Number.isNaN(time)) return true;
    const year = new Date(time).getUTCFullYear();
    return year >= 1970 && year <= 9999;
  }, 'must be between 1970 and 9999');

export class LoginBody extends createZodDto(
  z.object({ tenant: z.string().trim().toLowerCase().pipe(tenantSlugSchema), email: emailSchema, password: z.string().min(1).max(1024) }).strict(),
) {}

export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  displayName: z.string(),
  role: roleSchema,
  status: z.enum(['active', 'disabled']),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
});
export class UserDto extends createZodDto(userSchema) {}
export class UserPageDto extends createZodDto(pageSchema(userSchema)) {}

export const tenantSchema = z.object({
  id: z.string(),
  slug: z.string(),
  name: z.string(),
  status: z.enum(['active', 'suspended']),
  createdAt: z.string(),
});
export class TenantDto extends createZodDto(tenantSchema) {}
export class TenantPageDto extends createZodDto(pageSchema(tenantSchema)) {}

export class SessionDto extends createZodDto(
  z.object({ user: userSchema, tenant: tenantSchema, csrfToken: z.string(), expiresAt: z.string().optional() }),
) {}

export class CreateUserBody extends createZodDto(
  z
    .object({
      email: emailSchema,
      displayName: z.string().trim().min(1).max(200),
      role: roleSchema.default('member'),
      password: passwordSchema.optional(),
    })
    .strict(),
) {}

export class UpdateUserBody extends createZodDto(
  z
    .object({
      displayName: z.string().trim().min(1).max(200).optional(),
      role: roleSchema.optional(),
      status: z.enum(['active', 'disabled']).optional(),
    })
    .strict()
    .refine((body) => Object.values(body).some((value) => value !== undefined), 'give at least one field to change'),
) {}

export class ChangePasswordBody extends createZodDto(
  z.object({ currentPassword: z.string().min(1).max(1024), newPassword: passwordSchema }).strict(),
) {}

export const groupSchema = z.object({
  id: z.string(),
  name: z.string(),
  description: z.string(),
  memberCount: z.number().int(),
  createdAt: z.string(),
});
export class GroupDto extends createZodDto(groupSchema) {}
export class GroupPageDto extends createZodDto(pageSchema(groupSchema)) {}

export class CreateGroupBody extends createZodDto(
  z.object({ name: z.string().trim().min(1).max(100), description: z.string().max(1000).optional() }).strict(),
) {}

export class UpdateGroupBody extends createZodDto(
  z
    .object({ name: z.string().trim().min(1).max(100).optional(), description: z.string().max(1000).optional() })
    .strict()
    .refine((body) => body.name !== undefined || body.description !== undefined, 'give at least one field to change'),
) {}

export class MemberParam extends createZodDto(z.object({ id: idSchema, userId: idSchema }).strict()) {}

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  scopes: z.array(z.string()),
  createdById: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdAt: z.string(),
});
export class ApiKeyDto extends createZodDto(apiKeySchema) {}
export class ApiKeyPageDto extends createZodDto(pageSchema(apiKeySchema)) {}
export class CreatedApiKeyDto extends createZodDto(
  z.object({ key: apiKeySchema, token: z.string().describe('The full key. Shown once; store it now.') }),
) {}

export class CreateApiKeyBody extends createZodDto(
  z
    .object({
      name: z.string().trim().min(1).max(100),
      scopes: z
        .array(z.enum(allPermissions as [string, ...string[]]))
        .min(1)
        .max(allPermissions.length),
      expiresAt: z.iso.datetime({ offset: true }).optional(),
    })
    .strict(),
) {}

export class CreateTenantBody extends createZodDto(
  z
    .object({
      slug: tenantSlugSchema,
      name: z.string().trim().min(1).max(200),
      owner: z
        .object({ email: emailSchema, displayName: z.string().trim().min(1).max(200), password: passwordSchema })
        .strict()
        .optional(),
    })
    .strict(),
) {}
export class CreatedTenantDto extends createZodDto(z.object({ tenant: tenantSchema, owner: userSchema.nullable() })) {}

export const auditEventSchema = z.object({
  id: z.string(),
  action: z.string(),
  outcome: z.string(),
  actor: z.object({ type: z.string(), id: z.string().nullable() }),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  metadata: z.unknown(),
  createdAt: z.string(),
});
export class AuditEventPageDto extends createZodDto(pageSchema(auditEventSchema)) {}

export class AuditQueryDto extends createZodDto(
  z
    .object({
      limit: z.coerce.number().int().min(1).max(200).default(50),
      cursor: z.string().max(200).optional(),
      action: z.string().max(100).optional(),
      actorId: z.string().max(100).optional(),
      outcome: z.enum(['success', 'failure']).optional(),
      from: isoDate.optional(),
      to: isoDate.optional(),
    })
    .strict(),
) {}
