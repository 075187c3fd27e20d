/**
 * Coalesces embedding requests from concurrent jobs into full model batches: a request waits at most
 * `maxWaitMs` for company, and a batch never exceeds `maxBatch` texts. Per-document batches of one or two
 * chunks would otherwise leave most of the model's batch throughput unused.
 */
export class MicroBatcher<In, Out> {
  private pending: { item: In; resolve: (value: Out) => void; reject: (error: unknown) => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running = Promise.resolve();

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
    if (this.pending.length >= this.maxBatch) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.maxWaitMs);
    return Promise.all(results);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      // Batches run one after another: the model is CPU-bound, running two at once only adds contention.
      this.running = this.running.then(async () => {
        try {
          const outputs = await this.run(batch.map((entry) => entry.item));
          batch.forEach((entry, index) => entry.resolve(outputs[index] as Out));
        } catch (error) {
          batch.forEach((entry) => entry.reject(error));
        }
      });
    }
  }
}
