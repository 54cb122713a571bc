import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { setThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { registerWasmKernels } from "./kernels";

/** What the caller asks for; `auto` = tfjs-node if it loads, else wasm (never silently cpu). */
export type BackendChoice = "auto" | "node" | "wasm" | "cpu";
/** tfjs's own name of the backend that ends up running. */
export type BackendName = "tensorflow" | "wasm" | "cpu";
export type Tf = typeof tf;

export interface InitBackendOptions {
  backend?: BackendChoice;
  /** Threads for the wasm backend (only honoured where wasm threads are supported; Node: 1). */
  threads?: number;
  /** Where the "tfjs backend: ..." line goes; default console.error. */
  log?: (msg: string) => void;
}

export interface BackendInfo {
  name: BackendName;
  tf: Tf;
}

export const BACKEND_CHOICES: readonly BackendChoice[] = ["auto", "node", "wasm", "cpu"];

const require = createRequire(import.meta.url);

/** Directory of the tfjs-backend-wasm .wasm binaries (with trailing separator). */
export function wasmBinaryDir(): string {
  return path.dirname(require.resolve("@tensorflow/tfjs-backend-wasm")) + path.sep;
}

/**
 * Try to load @tensorflow/tfjs-node. Its native addon is often missing (the install
 * is optional and fails without libtensorflow); that throws at once on import, so this
 * fails fast. Returns an error message instead of throwing.
 */
async function tryNode(): Promise<{ tf: Tf } | { error: string }> {
  try {
    const mod = (await import("@tensorflow/tfjs-node")) as unknown as Tf;
    // tfjs-node registers "tensorflow" on its own tfjs-core; use ours when it is the same engine.
    const same = tf.findBackendFactory("tensorflow") != null;
    const t = same ? tf : mod;
    if (!(await t.setBackend("tensorflow"))) return { error: "setBackend('tensorflow') failed" };
    await t.ready();
    return { tf: t };
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.includes("tfjs_binding.node"))
      return { error: "native addon tfjs_binding.node not built" };
    if (/Cannot find (module|package)/.test(msg)) return { error: "package not installed" };
    return { error: msg.split(/[\n.]/)[0] ?? msg };
  }
}

let wasmPathsSet = false;

async function initWasm(threads: number | undefined): Promise<void> {
  if (!wasmPathsSet) {
    setWasmPaths(wasmBinaryDir());
    if (threads !== undefined) setThreadsCount(threads);
    wasmPathsSet = true;
  }
  const ok = await tf.setBackend("wasm");
  if (!ok) {
    throw new Error(
      `tfjs wasm backend failed to initialise (binaries looked up in ${wasmBinaryDir()})`,
    );
  }
  await tf.ready();
  registerWasmKernels(tf);
}

async function describeWasm(): Promise<string> {
  const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT");
  const threads = await tf.env().getAsync("WASM_HAS_MULTITHREAD_SUPPORT");
  return `wasm (${simd ? "simd" : "no simd"}, ${threads ? "threaded" : "1 thread"}, ${registerWasmKernels(tf).length} kernels registered)`;
}

/**
 * Choose and initialise the tfjs backend for training, print which one runs, and return
 * it with the tf namespace to use. `auto`: tfjs-node if its native addon loads, else
 * tfjs + tfjs-backend-wasm with the missing/buggy gradient kernels replaced
 * (see docs/backend.md). The pure-JS cpu backend only runs when asked for.
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const choice = opts.backend ?? "auto";
  const log = opts.log ?? ((m: string) => console.error(m));
  if (!BACKEND_CHOICES.includes(choice)) {
    throw new Error(`backend: unknown choice "${choice}" (expected ${BACKEND_CHOICES.join(", ")})`);
  }
  if (opts.threads !== undefined && !(Number.isInteger(opts.threads) && opts.threads >= 1)) {
    throw new Error(`threads: expected a positive integer, got ${opts.threads}`);
  }
  if (choice === "auto" || choice === "node") {
    const node = await tryNode();
    if ("tf" in node) {
      log("tfjs backend: tensorflow (tfjs-node, native)");
      return { name: "tensorflow", tf: node.tf };
    }
    if (choice === "node")
      throw new Error(`backend node: @tensorflow/tfjs-node does not load: ${node.error}`);
    await initWasm(opts.threads);
    log(`tfjs backend: ${await describeWasm()} [tfjs-node: ${node.error}]`);
    return { name: "wasm", tf };
  }
  if (choice === "wasm") {
    await initWasm(opts.threads);
    log(`tfjs backend: ${await describeWasm()}`);
    return { name: "wasm", tf };
  }
  if (!(await tf.setBackend("cpu"))) throw new Error("tfjs cpu backend failed to initialise");
  await tf.ready();
  // Silence the one-time "install tfjs-node" banner: the user asked for cpu.
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  log("tfjs backend: cpu (pure JavaScript, slow; asked for explicitly)");
  return { name: "cpu", tf };
}
