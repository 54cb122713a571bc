import { describe, expect, it } from "vitest";
import { initBackend } from "./init";

describe("initBackend", () => {
  it("auto picks tensorflow or wasm, never cpu, and logs the choice", async () => {
    const lines: string[] = [];
    const { name, tf } = await initBackend({ log: (m) => lines.push(m) });
    expect(["tensorflow", "wasm"]).toContain(name);
    expect(tf.getBackend()).toBe(name);
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain(`tfjs backend: ${name}`);
    expect(Array.from(tf.add(tf.tensor([1, 2]), 1).dataSync())).toEqual([2, 3]);
  });

  it("cpu and wasm on request", async () => {
    const log = () => {};
    expect((await initBackend({ backend: "cpu", log })).tf.getBackend()).toBe("cpu");
    expect((await initBackend({ backend: "wasm", log })).tf.getBackend()).toBe("wasm");
  });

  it("rejects bad options with a message naming the field", async () => {
    const bad = { backend: "gpu" } as unknown as Parameters<typeof initBackend>[0];
    await expect(initBackend(bad)).rejects.toThrow(/backend: unknown choice "gpu"/);
    await expect(initBackend({ backend: "wasm", threads: 0 })).rejects.toThrow(/threads/);
  });
});
