/**
 * Coalesces embedding requests from concurrent jobs into model batches of at most `maxBatch` texts.
 * Batches run one at a time (the model is CPU-bound; two at once only contend), and while one runs, new
 * requests gather: the next batch starts the moment the model is free, with everything that arrived (up to
 * `maxBatch`). Only an idle model waits, at most `maxWaitMs`, for company before it starts. A fixed wait
 * on a busy model would leave it idle between batches, and jobs that finish together would all come back
 * for their next documents together, again leaving it idle.
 */
export class MicroBatcher<In, Out> {
  private pending: { item: In; resolve: (value: Out) => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;

  constructor(
    private readonly run: (items: In[]) => Promise<Out[]>,
    private readonly maxBatch: number,
    private readonly maxWaitMs: number,
  ) {}

  submit(items: In[]): Promise<Out[]> {
    const results = items.map(
      (item) =>
        new Promise<Out>((resolve, reject) => {
          this.pending.push({ item, resolve, reject });
        }),
    );
    if (!this.busy) {
      if (this.pending.length >= this.maxBatch || this.maxWaitMs === 0) this.startBatch();
      else this.timer ??= setTimeout(() => this.startBatch(), this.maxWaitMs);
    }
    return Promise.all(results);
  }

  private startBatch(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.busy || this.pending.length === 0) return;
    this.busy = true;
    const batch = this.pending.splice(0, this.maxBatch);
    void this.runBatch(batch.map((entry) => entry.item)).then((outcome) => {
      if (outcome.ok) batch.forEach((entry, index) => entry.resolve(outcome.outputs[index] as Out));
      else batch.forEach((entry) => entry.reject(outcome.error));
      this.busy = false;
      // Whatever arrived meanwhile has waited a whole batch already: start at once.
      this.startBatch();
    });
  }

  private async runBatch(items: In[]): Promise<{ ok: true; outputs: Out[] } | { ok: false; error: unknown }> {
    try {
      return { ok: true, outputs: await this.run(items) };
    } catch (error) {
      return { ok: false, error };
    }
  }
}
