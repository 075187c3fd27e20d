import { ApiError, currentCsrfToken, NETWORK_ERROR, toErrorBody, type Schemas } from './client';

export type UploadResult = Schemas['UploadResultDto'];

/**
 * Uploads one file to a collection. XMLHttpRequest rather than fetch: only it reports upload progress
 * (`onProgress` gets 0..1). The response is the API's UploadResultDto, typed from the OpenAPI document.
 */
export function uploadFile(
  collectionId: string,
  file: File,
  onProgress: (fraction: number) => void,
): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/v1/collections/${encodeURIComponent(collectionId)}/documents`);
    xhr.withCredentials = true;
    xhr.setRequestHeader('Accept', 'application/json');
    const csrf = currentCsrfToken();
    if (csrf) xhr.setRequestHeader('X-CSRF-Token', csrf);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && event.total > 0) onProgress(event.loaded / event.total);
    };
    xhr.onerror = () => reject(new ApiError(0, NETWORK_ERROR));
    xhr.onload = () => {
      let body: unknown;
      try {
        body = JSON.parse(xhr.responseText) as unknown;
      } catch {
        body = undefined;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(1);
        resolve(body as UploadResult);
        return;
      }
      const headers = new Headers();
      const requestId = xhr.getResponseHeader('x-request-id');
      if (requestId) headers.set('x-request-id', requestId);
      reject(new ApiError(xhr.status, toErrorBody({ status: xhr.status, statusText: xhr.statusText, headers }, body)));
    };
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}
