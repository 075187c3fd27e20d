/**
 * The one place query keys are built.
 *
 * The session is global (it is what tells us the tenant). Everything else is data
 * of one tenant and must live under `tenant(tenantId)`, so switching or signing
 * out can drop all of it with `removeQueries({ queryKey: queryKeys.tenants() })`.
 * Add area keys here as their APIs arrive, e.g.
 * `documents: (tenantId: string) => [...queryKeys.tenant(tenantId), 'documents'] as const`.
 */
export const queryKeys = {
  session: () => ['session'] as const,
  tenants: () => ['tenant'] as const,
  tenant: (tenantId: string) => ['tenant', tenantId] as const,
};
