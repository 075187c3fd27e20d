import { request } from './client';

export interface SessionUser {
  id: string;
  email: string;
  displayName: string;
  role: string;
}

export interface SessionTenant {
  id: string;
  slug: string;
  name: string;
}

/** Shape returned by both `POST /v1/auth/login` and `GET /v1/auth/session`. */
export interface Session {
  user: SessionUser;
  tenant: SessionTenant;
  csrfToken: string;
}

export interface SignInInput {
  /** Tenant slug. */
  tenant: string;
  email: string;
  password: string;
}

export const authApi = {
  login: (input: SignInInput) => request<Session>('POST', '/v1/auth/login', { body: input }),
  session: (signal?: AbortSignal) =>
    request<Session>('GET', '/v1/auth/session', signal ? { signal } : {}),
  logout: () => request<void>('POST', '/v1/auth/logout'),
};
