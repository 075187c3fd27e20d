import { AppError, ErrorCode } from '@quarry/core';

/**
 * The content was larger than the caller allowed. Carries PAYLOAD_TOO_LARGE (413), so an upload route can let
 * it reach the exception filter unchanged.
 */
export class StorageLimitError extends AppError {
  constructor(readonly limitBytes: number) {
    super(413, ErrorCode.PayloadTooLarge, `The content is larger than the limit of ${limitBytes} bytes`, { limitBytes });
    this.name = 'StorageLimitError';
  }
}

/** No object is stored under the key. The key stays out of the message: it names internal layout. */
export class ObjectNotFoundError extends AppError {
  constructor(readonly key: string) {
    super(404, ErrorCode.NotFound, 'Stored object not found');
    this.name = 'ObjectNotFoundError';
  }
}

/**
 * The key is not one storage accepts. Keys are built by services from ids, never taken from clients,
 * so this is a bug on our side and deliberately not an AppError (it becomes a 500).
 */
export class InvalidKeyError extends Error {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(`Invalid object key ${JSON.stringify(key.length > 100 ? `${key.slice(0, 100)}…` : key)}: ${reason}`);
    this.name = 'InvalidKeyError';
  }
}
