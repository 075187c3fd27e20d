import type { JobsOptions } from 'bullmq';
import type { z } from 'zod';

/**
 * A job is a contract between the producer (API, scheduler) and its processor (worker):
 * which queue, which name, the payload's schema and version, and how to de-duplicate it.
 */
export interface JobContract<Schema extends z.ZodType> {
  readonly queue: string;
  readonly name: string;
  /** Bumped when the payload changes shape; a worker refuses versions it does not know. */
  readonly version: number;
  readonly payload: Schema;
  /** Same id, same job: BullMQ ignores an add whose id is already queued or running. */
  readonly jobId?: (payload: z.infer<Schema>) => string;
  readonly options?: Omit<JobsOptions, 'jobId'>;
}

export function defineJob<Schema extends z.ZodType>(contract: JobContract<Schema>): JobContract<Schema> {
  return contract;
}

/** What is actually stored in Redis: the payload plus the contract version it was written for. */
export interface JobEnvelope<Payload> {
  v: number;
  payload: Payload;
}

export class JobContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobContractError';
  }
}

export function envelope<Schema extends z.ZodType>(
  contract: JobContract<Schema>,
  payload: z.infer<Schema>,
): JobEnvelope<z.infer<Schema>> {
  return { v: contract.version, payload: contract.payload.parse(payload) };
}

/** Validates a job's data against its contract; a mismatch is permanent and must not be retried. */
export function openEnvelope<Schema extends z.ZodType>(contract: JobContract<Schema>, data: unknown): z.infer<Schema> {
  const candidate = data as Partial<JobEnvelope<unknown>> | null;
  if (!candidate || candidate.v !== contract.version) {
    throw new JobContractError(
      `${contract.queue}/${contract.name}: expected payload version ${contract.version}, got ${String(candidate?.v)}`,
    );
  }
  const parsed = contract.payload.safeParse(candidate.payload);
  if (!parsed.success) {
    throw new JobContractError(`${contract.queue}/${contract.name}: invalid payload: ${parsed.error.message}`);
  }
  return parsed.data;
}
