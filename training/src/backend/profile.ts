import type * as tfNs from "@tensorflow/tfjs";

/** Time spent in one kernel name while profiling. */
export interface KernelTime {
  kernel: string;
  calls: number;
  /** Milliseconds inside this kernel, excluding kernels it ran itself (self time). */
  selfMs: number;
}

export interface KernelProfile {
  /** Per kernel name (or name and input shapes with `byShape`), slowest first. */
  kernels: KernelTime[];
  /** Time of the profiled function (CPU or wall, as the clock option says). */
  totalMs: number;
  /** totalMs minus all kernel self times: JS around the kernels (tape, layers, engine). */
  outsideMs: number;
}

/**
 * Run `fn` with every kernel of `backendName` wrapped by a timer, and return the self time
 * per kernel name (a kernel written with tf ops runs other kernels: their time is charged
 * to them, not to it). Kernels are synchronous on wasm and cpu. The default clock is this
 * process's CPU time, which other jobs on a shared machine disturb far less than wall time.
 * The original kernels are put back afterwards, also when `fn` throws.
 */
export async function profileKernels(
  tf: typeof tfNs,
  backendName: string,
  fn: () => void | Promise<void>,
  opts: { byShape?: boolean; clock?: "wall" | "cpu" } = {},
): Promise<KernelProfile> {
  const now = opts.clock === "wall" ? () => performance.now() : cpuNow;
  const originals = tf.getKernelsForBackend(backendName);
  const times = new Map<string, { calls: number; selfMs: number }>();
  const stack: number[] = []; // child time accumulated per open kernel
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, backendName);
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        stack.push(0);
        const t0 = now();
        try {
          return k.kernelFunc(args);
        } finally {
          const dt = now() - t0;
          const child = stack.pop() ?? 0;
          if (stack.length > 0) stack[stack.length - 1]! += dt;
          const key = opts.byShape ? `${k.kernelName} ${shapesOf(args.inputs)}` : k.kernelName;
          const e = times.get(key) ?? { calls: 0, selfMs: 0 };
          e.calls++;
          e.selfMs += dt - child;
          times.set(key, e);
        }
      },
    });
  }
  const t0 = now();
  try {
    await fn();
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, backendName);
      tf.registerKernel(k);
    }
  }
  const totalMs = now() - t0;
  const kernels = [...times.entries()]
    .map(([kernel, v]) => ({ kernel, ...v }))
    .sort((a, b) => b.selfMs - a.selfMs);
  const inKernels = kernels.reduce((s, k) => s + k.selfMs, 0);
  return { kernels, totalMs, outsideMs: totalMs - inKernels };
}

/** CPU time of this process (user + system) in ms. */
function cpuNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

function shapesOf(inputs: tfNs.NamedTensorInfoMap): string {
  return Object.values(inputs)
    .map((t) => (t == null ? "-" : `[${t.shape.join(",")}]`))
    .join(" ");
}

/** A fixed-width table of a profile (top `limit` kernels). */
export function formatProfile(p: KernelProfile, limit = 20, opts: { width?: number } = {}): string {
  const lines = [`total ${p.totalMs.toFixed(1)} ms, outside kernels ${p.outsideMs.toFixed(1)} ms`];
  for (const k of p.kernels.slice(0, limit)) {
    const pct = ((100 * k.selfMs) / p.totalMs).toFixed(1).padStart(5);
    lines.push(
      `  ${k.kernel.padEnd(opts.width ?? 40)} ${k.selfMs.toFixed(1).padStart(9)} ms ${pct}%  ${String(k.calls).padStart(5)} calls`,
    );
  }
  return lines.join("\n");
}
