declare const tenantIdBrand: unique symbol;

/** A tenant id that has been established by authentication or by a trusted job payload. */
export type TenantId = string & { readonly [tenantIdBrand]: true };

/**
 * The scope every tenant-owned read or write must carry. Repositories take it as their first argument,
 * so a query without one does not compile; the database enforces the same scope again through RLS.
 */
export interface TenantScope {
  readonly tenantId: TenantId;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return uuidPattern.test(value);
}

/** Only call with an id that came from a trusted source (the session, API key, job payload, platform admin). */
export function tenantScope(tenantId: string): TenantScope {
  if (!isUuid(tenantId)) {
    throw new Error(`Not a tenant id: ${JSON.stringify(tenantId)}`);
  }
  return { tenantId: tenantId.toLowerCase() as TenantId };
}
