/** A failure that retrying cannot fix (corrupt, unsupported or encrypted file, missing original, …). */
export class PermanentStageError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PermanentStageError';
  }
}

/** Stops the pipeline early without failing: e.g. a refreshed URL that has not changed. */
export class StopPipeline extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'StopPipeline';
  }
}
