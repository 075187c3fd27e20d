import type { TenantScope } from './tenant-scope';

export const roles = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof roles)[number];

/** Who is acting. Every authenticated request and every job carries one. */
export type Actor =
  | {
      readonly type: 'user';
      readonly id: string;
      readonly role: Role;
      readonly sessionId: string;
    }
  | {
      readonly type: 'api_key';
      readonly id: string;
      /** The user the key belongs to; the key acts with at most that user's role. */
      readonly userId: string;
      readonly role: Role;
      readonly scopes: readonly string[];
    }
  | { readonly type: 'system'; readonly id: string };

export type ActorType = Actor['type'] | 'platform' | 'anonymous';

/** An authenticated principal inside one tenant: what services receive instead of the HTTP request. */
export interface Principal extends TenantScope {
  readonly actor: Actor;
  /** Effective permissions: the role's, narrowed by an API key's scopes. */
  readonly permissions: ReadonlySet<string>;
}

/** The user an actor acts for, if any (a key acts for its creator). */
export function actingUserId(actor: Actor): string | undefined {
  switch (actor.type) {
    case 'user':
      return actor.id;
    case 'api_key':
      return actor.userId;
    case 'system':
      return undefined;
  }
}
