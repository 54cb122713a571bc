import { Worker } from "node:worker_threads";
import type { FloatArray, FromWorker, LossSpec, ModelSpec, ToWorker } from "./protocol";

export interface DataParallelOptions {
  model: ModelSpec;
  loss?: LossSpec;
  /** worker threads, each with its own wasm instance (default 2) */
  workers?: number;
  backend?: "wasm" | "cpu";
}

export interface ParallelStepResult {
  /** mean loss over the whole batch */
  loss: number;
  /** argmax of the logits for every example of the batch, in batch order */
  predictions: Int32Array;
  /** gradients of the trainable weights (model.trainableWeights order), batch-averaged */
  grads: Float32Array[];
  /**
   * model.nonTrainableWeights (batch-norm moving mean/variance) after the step, averaged
   * over the shards weighted by shard size: write them back to the model
   */
  nonTrainable: Float32Array[];
}

/** out = sum_k w_k * parts[k] (all the same length). Exported for tests. */
export function weightedSum(parts: Float32Array[], w: number[]): Float32Array {
  const out = new Float32Array(parts[0]!.length);
  parts.forEach((p, k) => {
    const s = w[k]!;
    for (let i = 0; i < p.length; i++) out[i]! += s * p[i]!;
  });
  return out;
}

/** Split `n` rows into `k` contiguous shards as even as possible: [start, count] pairs. */
export function shards(n: number, k: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < k; i++) {
    const count = Math.floor(n / k) + (i < n % k ? 1 : 0);
    if (count > 0) out.push([start, count]);
    start += count;
  }
  return out;
}

/** The Math.random seed of shard `k` of a step seeded with `seed`. */
export function shardSeed(seed: number, k: number): number {
  return (seed + Math.imul(k, 0x9e3779b9)) >>> 0;
}

function rows(a: FloatArray, start: number, count: number): FloatArray {
  const per = a.shape.slice(1).reduce((p, q) => p * q, 1);
  return {
    data: a.data.slice(start * per, (start + count) * per),
    shape: [count, ...a.shape.slice(1)],
  };
}

const BOOT = new URL("./worker_boot.mjs", import.meta.url);
const ENTRY = new URL("./worker.ts", import.meta.url).href;

/**
 * Data-parallel gradients over worker threads, each running its own tfjs wasm instance:
 * the batch is split into contiguous shards, each worker computes the loss and gradients
 * of its shard with the given weights, and the results are averaged (weighted by shard
 * size) — the same gradient as the whole batch for per-example losses, except that batch
 * norm normalises each shard with that shard's statistics. BN moving statistics are
 * averaged over the shards. The caller applies the optimizer on the main thread.
 */
export class DataParallel {
  private nextId = 1;
  private closing = false;
  /** set when a worker errored or exited: later calls fail at once instead of waiting */
  private failed: Error | null = null;
  private pending = new Map<
    number,
    { resolve: (m: Extract<FromWorker, { kind: "grads" }>) => void; reject: (e: Error) => void }
  >();
  private constructor(
    private readonly workers: Worker[],
    /** shapes of model.trainableWeights and model.weights, as the workers built them */
    readonly shapes: { trainable: number[][]; all: number[][]; nonTrainable: number[][] },
  ) {
    for (const w of workers) {
      w.on("message", (m: FromWorker) => {
        if (m.kind === "grads") {
          this.pending.get(m.id)?.resolve(m);
          this.pending.delete(m.id);
        } else if (m.kind === "error" && m.id !== undefined) {
          this.pending.get(m.id)?.reject(new Error(`gradient worker: ${m.message}`));
          this.pending.delete(m.id);
        }
      });
      w.on("error", (e) => this.failAll(e));
      w.on("exit", (code) => {
        if (!this.closing) this.failAll(new Error(`gradient worker exited (code ${code})`));
      });
    }
  }

  private failAll(e: Error) {
    this.failed ??= e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  static async create(opts: DataParallelOptions): Promise<DataParallel> {
    const n = opts.workers ?? 2;
    if (!(Number.isInteger(n) && n >= 1))
      throw new Error(`workers: expected a positive integer, got ${n}`);
    const workers = Array.from(
      { length: n },
      () => new Worker(BOOT, { workerData: { entry: ENTRY }, execArgv: [] }),
    );
    try {
      const ready = await Promise.all(
        workers.map(
          (w) =>
            new Promise<Extract<FromWorker, { kind: "ready" }>>((resolve, reject) => {
              w.once("message", (m: FromWorker) =>
                m.kind === "ready"
                  ? resolve(m)
                  : reject(
                      new Error(`gradient worker: ${m.kind === "error" ? m.message : m.kind}`),
                    ),
              );
              w.once("error", reject);
              const init: ToWorker = {
                kind: "init",
                model: opts.model,
                loss: opts.loss,
                backend: opts.backend ?? "wasm",
              };
              w.postMessage(init);
            }),
        ),
      );
      const { trainable, all, nonTrainable } = ready[0]!;
      return new DataParallel(workers, { trainable, all, nonTrainable });
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      throw e;
    }
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Gradients of the mean loss over the batch (x, y: first axis = examples) at `weights`
   * (values of model.weights in order, trainable and not). With `seed`, shard k draws its
   * Math.random (dropout masks) from a generator seeded with shardSeed(seed, k).
   */
  async gradients(
    weights: Float32Array[],
    x: FloatArray,
    y: FloatArray,
    opts: { seed?: number } = {},
  ): Promise<ParallelStepResult> {
    if (weights.length !== this.shapes.all.length) {
      throw new Error(`weights: expected ${this.shapes.all.length} arrays, got ${weights.length}`);
    }
    if (x.shape[0] !== y.shape[0]) throw new Error("x and y: different numbers of examples");
    if (this.failed) throw this.failed;
    const parts = shards(x.shape[0]!, this.workers.length);
    const replies = await Promise.all(
      parts.map(([start, count], k) => {
        const id = this.nextId++;
        return new Promise<Extract<FromWorker, { kind: "grads" }>>((resolve, reject) => {
          this.pending.set(id, { resolve, reject });
          const msg: ToWorker = {
            kind: "step",
            id,
            weights,
            x: rows(x, start, count),
            y: rows(y, start, count),
            ...(opts.seed !== undefined ? { seed: shardSeed(opts.seed, k) } : {}),
          };
          this.workers[k]!.postMessage(msg);
        });
      }),
    );
    const total = x.shape[0]!;
    const share = parts.map(([, count]) => count / total);
    const predictions = new Int32Array(total);
    for (const [k, r] of replies.entries()) predictions.set(r.predictions, parts[k]![0]);
    return {
      loss: replies.reduce((s, r, k) => s + share[k]! * r.loss, 0),
      predictions,
      grads: replies[0]!.grads.map((_, i) =>
        weightedSum(
          replies.map((r) => r.grads[i]!),
          share,
        ),
      ),
      nonTrainable: replies[0]!.nonTrainable.map((_, i) =>
        weightedSum(
          replies.map((r) => r.nonTrainable[i]!),
          share,
        ),
      ),
    };
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
