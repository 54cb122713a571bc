import { describe, expect, it } from "vitest";
import { createMemoryTransports } from "./memory";
import type { PartyId } from "./types";

describe("MemoryTransport", () => {
  it("delivers in order, copies at send, counts bytes and messages per phase", async () => {
    const [t0, t1] = createMemoryTransports();
    const buf = new Uint8Array([1, 2, 3]);
    t0.send(1, buf);
    buf[0] = 9;
    t0.send(1, new Uint8Array([4]));
    expect(Array.from(await t1.receive(0))).toEqual([1, 2, 3]);
    t1.setPhase("online");
    expect(Array.from(await t1.receive(0))).toEqual([4]);
    const s0 = t0.stats();
    expect(s0.setup.bytesSent).toBe(4);
    expect(s0.setup.links[1].messagesSent).toBe(2);
    const s1 = t1.stats();
    expect(s1.setup.bytesReceived).toBe(3);
    expect(s1.online.bytesReceived).toBe(1);
    expect(s1.online.links[0].messagesReceived).toBe(1);
  });

  it("counts a reshare as 1 round and a relay through a helper as 2", async () => {
    const ts = createMemoryTransports();
    for (const t of ts) t.setPhase("online");
    // reshare: everyone sends to prev, receives from next
    await Promise.all(
      ts.map(async (t, i) => {
        t.send(((i + 2) % 3) as PartyId, new Uint8Array(4));
        await t.receive(((i + 1) % 3) as PartyId);
      }),
    );
    for (const t of ts) expect(t.stats().online.rounds).toBe(1);
    // relay: P0 -> P2 -> P1
    await Promise.all([
      (async () => ts[0].send(2, new Uint8Array(1)))(),
      (async () => ts[2].send(1, await ts[2].receive(0)))(),
      ts[1].receive(2),
    ]);
    expect(ts[1].stats().online.rounds).toBe(3);
    expect(ts[2].stats().online.rounds).toBe(2);
    expect(ts[0].stats().online.rounds).toBe(1);
  });

  it("with delayMs: keeps each link's order and still counts rounds by causal depth", async () => {
    let k = 0;
    const ts = createMemoryTransports({ delayMs: () => [3, 0, 1.5, 0.2][k++ % 4] });
    for (const t of ts) t.setPhase("online");
    const n = 40;
    await Promise.all([
      (async () => {
        for (let i = 0; i < n; i++) ts[0].send(2, new Uint8Array([i]));
      })(),
      (async () => {
        for (let i = 0; i < n; i++) ts[2].send(1, await ts[2].receive(0));
      })(),
      (async () => {
        for (let i = 0; i < n; i++) expect(Array.from(await ts[1].receive(2))).toEqual([i]);
      })(),
    ]);
    expect(ts[1].stats().online.rounds).toBe(2);
    expect(ts.reduce((a, t) => a + t.pendingMessages(), 0)).toBe(0);
  });

  it("rejects pending receives on close", async () => {
    const [t0] = createMemoryTransports();
    const p = t0.receive(1);
    await t0.close();
    await expect(p).rejects.toThrow(/closed/);
  });
});
