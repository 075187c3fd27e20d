/** One API and one worker for the benchmark: free ports, their own Redis prefix, a temporary storage directory. */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PlatformApi } from './api';
import type { DatabaseEnv } from './platform';
import { deleteRedisPrefix } from './platform';
import { AppProcess, freePort, type Env } from './processes';

export interface StackSettings {
  repoRoot: string;
  workDir: string;
  db: DatabaseEnv;
  /** Worker and API settings (INGEST_CONCURRENCY, EMBED_BATCH_SIZE, …), recorded with the result. */
  settings: Record<string, string>;
  /** Extra Node.js flags for the worker only (e.g. --cpu-prof). */
  workerNodeArgs?: string[];
}

export class Stack {
  readonly platform: PlatformApi;

  private constructor(
    readonly api: AppProcess,
    readonly worker: AppProcess,
    readonly redisPrefix: string,
    readonly storageDir: string,
    private readonly redisUrl: string,
    platformToken: string,
  ) {
    this.platform = new PlatformApi(api.url, platformToken);
  }

  static async start(options: StackSettings): Promise<Stack> {
    const platformToken = randomBytes(32).toString('base64url');
    const redisPrefix = `bench-${process.pid.toString(36)}-${randomBytes(3).toString('hex')}`;
    const storageDir = path.join(options.workDir, 'storage');
    await mkdir(storageDir, { recursive: true });
    const [apiPort, workerPort] = await Promise.all([freePort(), freePort()]);
    const env: Env = {
      NODE_ENV: 'production',
      DATABASE_URL: options.db.DATABASE_URL,
      // The processes need no owner or admin connection; they run as quarry_app, as deployed.
      DATABASE_OWNER_URL: undefined,
      DATABASE_ADMIN_URL: undefined,
      REDIS_URL: options.db.REDIS_URL,
      REDIS_PREFIX: redisPrefix,
      COOKIE_SECURE: 'false',
      PLATFORM_ADMIN_TOKEN_SHA256: createHash('sha256').update(platformToken, 'utf8').digest('hex'),
      HOST: '127.0.0.1',
      PORT: String(apiPort),
      PUBLIC_URL: `http://127.0.0.1:${apiPort}`,
      WORKER_HOST: '127.0.0.1',
      WORKER_PORT: String(workerPort),
      STORAGE_DRIVER: 'local',
      STORAGE_LOCAL_DIR: storageDir,
      CONSOLE_DIR: undefined,
      // Fresh tenants per run, so a key per run is enough to seal their provider keys.
      SECRETS_KEY: process.env.SECRETS_KEY ?? randomBytes(32).toString('base64'),
      // Benchmarks that generate turn it on; the others should not pay for loading the model.
      GENERATION_PRELOAD: 'false',
      ...options.settings,
    };
    const api = AppProcess.spawn('api', path.join(options.repoRoot, 'apps/api/dist/main.js'), apiPort, options.repoRoot, env, path.join(options.workDir, 'api.log'));
    const worker = AppProcess.spawn(
      'worker',
      path.join(options.repoRoot, 'apps/worker/dist/main.js'),
      workerPort,
      options.repoRoot,
      env,
      path.join(options.workDir, 'worker.log'),
      options.workerNodeArgs,
    );
    try {
      // The worker is ready once its embedding model has loaded and answered.
      await Promise.all([api.waitFor('/health/ready', 60_000), worker.waitFor('/health/ready', 120_000)]);
    } catch (error) {
      await Promise.all([api.stop(), worker.stop()]);
      await deleteRedisPrefix(options.db.REDIS_URL, redisPrefix);
      throw error;
    }
    return new Stack(api, worker, redisPrefix, storageDir, options.db.REDIS_URL, platformToken);
  }

  assertRunning(): void {
    this.api.assertRunning();
    this.worker.assertRunning();
  }

  async stop(): Promise<void> {
    await Promise.all([this.api.stop(), this.worker.stop()]);
    await deleteRedisPrefix(this.redisUrl, this.redisPrefix);
  }
}
