import { useMutation } from '@tanstack/react-query';
import { api, call, type Schemas } from '../api/client';

export type SearchRequest = Schemas['SearchBody'];
export type SearchResponse = Schemas['SearchResponseDto'];

/** A search is an action the user starts (and may repeat), so it is a mutation, not a cached query. */
export function useSearch() {
  return useMutation({
    mutationFn: (body: SearchRequest) => call(api.POST('/v1/search', { body })),
  });
}
