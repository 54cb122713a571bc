import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { openInProcessParties } from "../runtime/inprocess";
import { generateKeys, type KeyFiles } from "../runtime/keys";
import { createMemoryTransports } from "./memory";
import type { PartyId, Transport } from "./types";
import { decodeFrame, encodeData } from "./ws-frame";

let dir: string;
let keys: KeyFiles;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "cbnn-ws-test-"));
  keys = generateKeys(join(dir, "keys"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function randomBytesOf(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s >>> 24;
  }
  return out;
}

describe("ws frame codec", () => {
  it("round-trips messages and rejects malformed frames", () => {
    const msgs = [
      { data: randomBytesOf(13, 1), stamp: 3 },
      { data: new Uint8Array(0), stamp: 4 },
      { data: randomBytesOf(1000, 2), stamp: 1 },
    ];
    const f = decodeFrame(encodeData(msgs));
    expect(f.kind).toBe("data");
    if (f.kind !== "data") return;
    expect(f.messages.map((m) => m.stamp)).toEqual([3, 4, 1]);
    for (let k = 0; k < 3; k++) {
      expect(Array.from(f.messages[k].data)).toEqual(Array.from(msgs[k].data));
      expect(f.messages[k].data.byteOffset).toBe(0);
    }
    const good = encodeData(msgs);
    expect(() => decodeFrame(good.subarray(0, good.length - 1))).toThrow(/past the frame's end/);
    expect(() => decodeFrame(new Uint8Array([9]))).toThrow(/unknown frame kind 9/);
    expect(() => decodeFrame(new Uint8Array([1, 5, 0, 0, 0]))).toThrow(/claims 5 messages/);
    const extra = new Uint8Array(good.length + 2);
    extra.set(good);
    expect(() => decodeFrame(extra)).toThrow(/trailing/);
    expect(() => decodeFrame(new Uint8Array(0))).toThrow(/empty/);
  });
});

describe("WsTransport over mutual TLS on 127.0.0.1", () => {
  it("delivers in order between all pairs, counts bytes and rounds like the memory transport", async () => {
    const ps = await openInProcessParties(keys);
    try {
      const ts = ps.transports;
      for (const t of ts) t.setPhase("online");
      // reshare: everyone sends to prev, receives from next (1 round)
      const sent = ts.map((_, i) => randomBytesOf(64 + i, 10 + i));
      const got = await Promise.all(
        ts.map(async (t, i) => {
          t.send(((i + 2) % 3) as PartyId, sent[i]);
          return t.receive(((i + 1) % 3) as PartyId);
        }),
      );
      for (let i = 0; i < 3; i++) expect(Array.from(got[i])).toEqual(Array.from(sent[(i + 1) % 3]));
      for (const t of ts) expect(t.stats().online.rounds).toBe(1);
      // relay P0 -> P2 -> P1: 2 rounds at P1; many messages in one tick keep order
      await Promise.all([
        (async () => {
          for (let k = 0; k < 5; k++) ts[0].send(2, new Uint8Array([k]));
        })(),
        (async () => {
          for (let k = 0; k < 5; k++) ts[2].send(1, await ts[2].receive(0));
        })(),
        (async () => {
          for (let k = 0; k < 5; k++) expect(Array.from(await ts[1].receive(2))).toEqual([k]);
        })(),
      ]);
      expect(ts[1].stats().online.rounds).toBe(3);
      // P0 sent 64 bytes (reshare) + 5 to P2; P2 received the same; P1 got 66 + 5 from P2.
      expect(ts[0].stats().online.links[2].bytesSent).toBe(64 + 5);
      expect(ts[2].stats().online.links[0].bytesReceived).toBe(64 + 5);
      expect(ts[1].stats().online.bytesReceived).toBe(66 + 5);
      expect(ts[1].stats().online.messagesReceived).toBe(6);
    } finally {
      await ps.close();
    }
  });

  it("a send made before awaiting a receive does not take its stamp from it, even when the message is already here", async () => {
    // P2 -> P0, then P0 -> P1 (stamp 2). P1 starts receiving that message and,
    // before awaiting it, sends to P2: the send depends on nothing P1 has
    // received, so it is stamped 1 and P2 ends at clock 1, on both
    // transports, whether or not the message had arrived when P1 asked for it.
    // (The WebSocket transport used to hand over an already-queued message
    // synchronously, which stamped the send 3: round counts then depended on
    // arrival timing.)
    const scenario = async (
      ts: readonly (Transport & { pendingMessages(): number })[],
    ): Promise<[number, number, number]> => {
      await Promise.all([
        (async () => {
          ts[2].send(0, new Uint8Array([1]));
          expect(Array.from(await ts[2].receive(1))).toEqual([3]);
        })(),
        (async () => {
          await ts[0].receive(2);
          ts[0].send(1, new Uint8Array([2]));
        })(),
        (async () => {
          const deadline = Date.now() + 5000;
          while (ts[1].pendingMessages() === 0) {
            if (Date.now() > deadline) throw new Error("P0's message never reached P1");
            await new Promise((r) => setTimeout(r, 2));
          }
          const p = ts[1].receive(0);
          ts[1].send(2, new Uint8Array([3]));
          expect(Array.from(await p)).toEqual([2]);
        })(),
      ]);
      return [ts[0].stats().clock, ts[1].stats().clock, ts[2].stats().clock];
    };
    expect(await scenario(createMemoryTransports())).toEqual([1, 2, 1]);
    const ps = await openInProcessParties(keys);
    try {
      expect(await scenario(ps.transports)).toEqual([1, 2, 1]);
    } finally {
      await ps.close();
    }
  });

  it("close() under shaping still delivers what was sent just before it", async () => {
    const ps = await openInProcessParties(keys, {
      profile: { name: "test", latencyMs: 30, bytesPerSec: 1e7 },
    });
    const ts = ps.transports;
    ts[1].send(0, new Uint8Array([7, 8, 9]));
    const got = ts[0].receive(1);
    await ts[1].close();
    expect(Array.from(await got)).toEqual([7, 8, 9]);
    await ps.close();
  });

  it("refuses a stranger without a certificate and one with a foreign CA; the run goes on", async () => {
    const lines: string[] = [];
    const ps = await openInProcessParties(keys, { log: (l) => lines.push(l) });
    const foreign = generateKeys(join(dir, "foreign"));
    try {
      const attempt = (opts: Record<string, unknown>) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`wss://127.0.0.1:${ps.ports[0]}/`, {
            rejectUnauthorized: false,
            ...opts,
          });
          ws.on("open", () => {
            ws.close();
            resolve("open");
          });
          ws.on("error", (e) => resolve(`error: ${e.message}`));
          ws.on("unexpected-response", (_q, r) => resolve(`http ${r.statusCode}`));
        });
      expect(await attempt({})).not.toBe("open");
      expect(
        await attempt({
          cert: readFileSync(foreign.parties[2].cert),
          key: readFileSync(foreign.parties[2].key),
        }),
      ).not.toBe("open");
      // A real party certificate, but P0 expects P1/P2 only once each: P1 is already there.
      expect(
        await attempt({
          cert: readFileSync(keys.parties[1].cert),
          key: readFileSync(keys.parties[1].key),
          ca: readFileSync(keys.ca),
        }),
      ).toBe("http 409");
      // ... and P0's own certificate is not a party P0 accepts.
      expect(
        await attempt({
          cert: readFileSync(keys.parties[0].cert),
          key: readFileSync(keys.parties[0].key),
          ca: readFileSync(keys.ca),
        }),
      ).toBe("http 403");
      await new Promise((r) => setTimeout(r, 50));
      expect(ps.links[0].refused).toBeGreaterThanOrEqual(4);
      expect(lines.filter((l) => l.includes("refused")).length).toBeGreaterThanOrEqual(4);
      // The parties still talk.
      ps.transports[1].send(0, new Uint8Array([42]));
      expect(Array.from(await ps.transports[0].receive(1))).toEqual([42]);
    } finally {
      await ps.close();
    }
  });

  it("a receive past the timeout stops all three parties with an error naming the peer and step", async () => {
    const ps = await openInProcessParties(keys, { timeoutMs: 300 });
    const ts = ps.transports;
    ts[0].step = "batch 1 layer fc1";
    ts[2].step = "batch 1 layer fc1";
    const t0 = Date.now();
    const errs = await Promise.all([
      ts[0].receive(1).catch((e: Error) => e.message),
      ts[2].receive(0).catch((e: Error) => e.message),
      ts[1].receive(2).catch((e: Error) => e.message),
    ]);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(errs[0]).toMatch(
      /P0 \(data owner\): timed out .* waiting for P1 \(model owner\).*batch 1 layer fc1/,
    );
    expect(errs[1]).toMatch(/P2 \(helper\)/);
    expect(errs[2]).toMatch(/stopped|timed out/);
    await ps.close();
  });

  it("a lost peer or an oversized frame stops the others with a clear error", async () => {
    const ps = await openInProcessParties(keys, { timeoutMs: 5000 });
    const ts = ps.transports;
    ts[0].step = "seed setup";
    const pending = Promise.all([
      ts[0].receive(1).catch((e: Error) => e.message),
      ts[2].receive(0).catch((e: Error) => e.message),
    ]);
    // P1 vanishes without a BYE.
    for (const h of ps.links[1].sockets.values()) h.ws.terminate();
    const [e0, e2] = await pending;
    expect(e0).toMatch(/link to P1 \(model owner\) was lost.*seed setup/);
    expect(e2).toMatch(/P1 \(model owner\)|P0 \(data owner\) stopped/);
    await ps.close();

    // A malformed frame (unknown kind) and a text frame.
    for (const bad of [new Uint8Array([9, 1, 2]), "hello"]) {
      const ms = await openInProcessParties(keys, { timeoutMs: 5000 });
      const w0 = ms.transports[0].receive(2).catch((e: Error) => e.message);
      const w1 = ms.transports[1].receive(0).catch((e: Error) => e.message);
      ms.links[2].sockets.get(0)!.ws.send(bad);
      expect(await w0).toMatch(/P0 \(data owner\): malformed frame from P2 \(helper\)/);
      expect(await w1).toMatch(/P0 \(data owner\) stopped: .*malformed frame from P2/);
      await ms.close();
    }

    const qs = await openInProcessParties(keys, { maxFrameBytesOf: [1 << 20, 1 << 10, 1 << 20] });
    const wait = qs.transports[1].receive(0).catch((e: Error) => e.message);
    const wait0 = qs.transports[0].receive(2).catch((e: Error) => e.message);
    qs.transports[0].send(1, new Uint8Array(4096));
    expect(await wait).toMatch(/P1 \(model owner\): link to P0 \(data owner\) failed: oversized/);
    expect(await wait0).toMatch(/stopped|lost/);
    await qs.close();
  });
});
