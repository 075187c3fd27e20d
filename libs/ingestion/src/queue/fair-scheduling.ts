import type { Redis } from 'ioredis';

/**
 * Fairness between tenants on one BullMQ queue, without BullMQ Pro's groups.
 *
 * Each job's priority is its position in its own tenant's backlog (1 = next for that tenant). BullMQ runs
 * lower priorities first and FIFO within one, so the queue interleaves tenants round-robin: with 2,000 of
 * A's documents queued, B's first document gets priority 1 and runs next. The backlog counter goes down
 * when a job ends, so a tenant's later documents never queue behind its own finished ones.
 *
 * Separately, at most `tenantConcurrency` jobs of one tenant run at once (a sorted set of running job ids
 * with their start time; entries older than the lock timeout are dropped, so a killed worker cannot leak
 * a slot forever).
 */
export class FairScheduling {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  private backlogKey(): string {
    return `${this.prefix}:ingest:backlog`;
  }

  private pendingKey(tenantId: string): string {
    return `${this.prefix}:ingest:pending:${tenantId}`;
  }

  private runningKey(tenantId: string): string {
    return `${this.prefix}:ingest:running:${tenantId}`;
  }

  /** Call once per new job; returns the BullMQ priority to give it. */
  async admit(tenantId: string, documentId: string): Promise<number> {
    // A document already waiting keeps its place and is not counted twice.
    const position = (await this.redis.eval(
      `if redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[3]) == 1 then
         return redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
       end
       return tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '1')`,
      2,
      this.backlogKey(),
      this.pendingKey(tenantId),
      tenantId,
      String(Date.now()),
      documentId,
    )) as number;
    // BullMQ priorities go up to 2^21.
    return Math.min(Math.max(position, 1), 2_097_151);
  }

  /** When the job has ended for good (indexed, failed permanently, or dropped). */
  async release(tenantId: string, documentId: string): Promise<void> {
    const remaining = await this.redis.hincrby(this.backlogKey(), tenantId, -1);
    if (remaining <= 0) await this.redis.hdel(this.backlogKey(), tenantId);
    await this.redis.zrem(this.pendingKey(tenantId), documentId);
  }

  /** Takes a run slot for the tenant, or answers false when it already runs `limit` jobs. */
  async tryStart(tenantId: string, jobId: string, limit: number, staleAfterMs: number): Promise<boolean> {
    const key = this.runningKey(tenantId);
    const now = Date.now();
    const result = (await this.redis.eval(
      `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
       if redis.call('ZSCORE', KEYS[1], ARGV[3]) then return 1 end
       if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
       redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3])
       redis.call('PEXPIRE', KEYS[1], ARGV[5])
       return 1`,
      1,
      key,
      String(now - staleAfterMs),
      String(limit),
      jobId,
      String(now),
      String(staleAfterMs * 4),
    )) as number;
    if (result === 1) await this.redis.zrem(this.pendingKey(tenantId), jobId.replace(/^doc-/, ''));
    return result === 1;
  }

  /** Keeps a long job's slot fresh (called as the job makes progress). */
  async heartbeat(tenantId: string, jobId: string): Promise<void> {
    await this.redis.zadd(this.runningKey(tenantId), 'XX', Date.now(), jobId);
  }

  async finish(tenantId: string, jobId: string): Promise<void> {
    await this.redis.zrem(this.runningKey(tenantId), jobId);
  }

  /**
   * Per tenant, for /metrics: documents waiting to start, documents not yet finished (waiting + running),
   * and how long the oldest waiting one has waited (the tenant's queue lag).
   */
  async snapshot(): Promise<{ tenantId: string; waiting: number; unfinished: number; lagSeconds: number }[]> {
    const backlog = await this.redis.hgetall(this.backlogKey());
    const now = Date.now();
    return Promise.all(
      Object.entries(backlog).map(async ([tenantId, count]) => {
        const key = this.pendingKey(tenantId);
        const [waiting, oldest] = await Promise.all([this.redis.zcard(key), this.redis.zrange(key, 0, 0, 'WITHSCORES')]);
        const since = oldest[1] ? Number(oldest[1]) : now;
        return { tenantId, waiting, unfinished: Number(count), lagSeconds: Math.max(0, (now - since) / 1000) };
      }),
    );
  }
}
