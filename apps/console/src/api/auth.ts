import { api, call, type Schemas } from './client';

/** Shape returned by both `POST /v1/auth/login` and `GET /v1/auth/session`. */
export type Session = Schemas['SessionDto'];
export type SignInInput = Schemas['LoginBody'];

export const authApi = {
  login: (body: SignInInput) => call(api.POST('/v1/auth/login', { body })),
  session: (signal?: AbortSignal) => call(api.GET('/v1/auth/session', signal ? { signal } : {}), signal),
  logout: () => call(api.POST('/v1/auth/logout')),
};
