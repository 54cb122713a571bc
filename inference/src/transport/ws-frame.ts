/**
 * Wire format of one WebSocket binary frame between two parties.
 *
 *   byte 0       kind: 1 = DATA, 2 = ABORT, 3 = BYE
 *   DATA:  u32 count, then count x (u32 stamp, u32 length, length bytes)
 *          (all messages a party queued for that peer in one tick travel in
 *          one frame: normally one frame per peer per round)
 *   ABORT: UTF-8 text, why the sender stopped (the receiver fails with it)
 *   BYE:   empty; the sender finished and closes its side on purpose
 * Integers are little-endian. Stamps are the round stamps of
 * `transport/types.ts`; headers are not counted as payload bytes.
 */

import type { StampedMessage } from "./types";

export const FRAME_DATA = 1;
export const FRAME_ABORT = 2;
export const FRAME_BYE = 3;

export type Frame =
  | { kind: "data"; messages: StampedMessage[] }
  | { kind: "abort"; reason: string }
  | { kind: "bye" };

export class FrameError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FrameError";
  }
}

export function encodeData(messages: readonly StampedMessage[]): Uint8Array {
  let total = 5;
  for (const m of messages) total += 8 + m.data.byteLength;
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  out[0] = FRAME_DATA;
  dv.setUint32(1, messages.length, true);
  let o = 5;
  for (const m of messages) {
    dv.setUint32(o, m.stamp >>> 0, true);
    dv.setUint32(o + 4, m.data.byteLength, true);
    out.set(m.data, o + 8);
    o += 8 + m.data.byteLength;
  }
  return out;
}

export function encodeAbort(reason: string): Uint8Array {
  const text = new TextEncoder().encode(reason.slice(0, 4000));
  const out = new Uint8Array(1 + text.byteLength);
  out[0] = FRAME_ABORT;
  out.set(text, 1);
  return out;
}

export function encodeBye(): Uint8Array {
  return new Uint8Array([FRAME_BYE]);
}

/**
 * Parses one frame. Every message is copied into its own buffer (offset 0, so
 * callers can view it as a Uint32Array). Throws {@link FrameError} when the
 * frame is malformed (unknown kind, lengths that do not add up, stamp 0).
 */
export function decodeFrame(buf: Uint8Array): Frame {
  if (buf.byteLength < 1) throw new FrameError("empty frame");
  const kind = buf[0];
  if (kind === FRAME_BYE) {
    if (buf.byteLength !== 1) throw new FrameError("BYE frame with a payload");
    return { kind: "bye" };
  }
  if (kind === FRAME_ABORT) {
    return { kind: "abort", reason: new TextDecoder().decode(buf.subarray(1)) };
  }
  if (kind !== FRAME_DATA) throw new FrameError(`unknown frame kind ${kind}`);
  if (buf.byteLength < 5) throw new FrameError("DATA frame shorter than its header");
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const count = dv.getUint32(1, true);
  if (count === 0) throw new FrameError("DATA frame with no messages");
  if (count > (buf.byteLength - 5) / 8) {
    throw new FrameError(`DATA frame claims ${count} messages in ${buf.byteLength} bytes`);
  }
  const messages: StampedMessage[] = [];
  let o = 5;
  for (let k = 0; k < count; k++) {
    if (o + 8 > buf.byteLength) throw new FrameError(`DATA frame truncated in message ${k}`);
    const stamp = dv.getUint32(o, true);
    const len = dv.getUint32(o + 4, true);
    if (stamp === 0) throw new FrameError(`DATA frame message ${k} has round stamp 0`);
    if (o + 8 + len > buf.byteLength) {
      throw new FrameError(`DATA frame message ${k} claims ${len} bytes past the frame's end`);
    }
    messages.push({ data: buf.slice(o + 8, o + 8 + len), stamp });
    o += 8 + len;
  }
  if (o !== buf.byteLength) {
    throw new FrameError(`DATA frame has ${buf.byteLength - o} trailing bytes`);
  }
  return { kind: "data", messages };
}
