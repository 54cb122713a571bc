import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { kdLoss } from "../kd";
import { packedKdLoss, packTargets } from "./worker-entry";

beforeAll(async () => {
  await tf.setBackend("cpu");
});

describe("packTargets / packedKdLoss (the trainer's loss inside gradient workers)", () => {
  const labels = Int32Array.of(2, 0, 1);
  const teacher = Float32Array.of(0.5, -1, 3, 2, 0, -2, -0.5, 4, 1);
  const logits = [
    [1, 2, 0.5],
    [-1, 0, 2],
    [0.3, 0.2, 0.1],
  ];

  it("packs [label, teacher logits] per row, or [label] alone", () => {
    const p = packTargets(labels, teacher, 3);
    expect(p.shape).toEqual([3, 4]);
    expect(Array.from(p.data.subarray(4, 8))).toEqual([0, 2, 0, -2]);
    const q = packTargets(labels, null, 3);
    expect(q.shape).toEqual([3, 1]);
    expect(Array.from(q.data)).toEqual([2, 0, 1]);
    expect(() => packTargets(labels, teacher.subarray(1), 3)).toThrow(/teacher logits/);
  });

  it("equals kdLoss on the unpacked inputs, with and without a teacher", () => {
    const kd = { lambda: 0.1, T: 10 };
    const s = tf.tensor2d(logits);
    const p = packTargets(labels, teacher, 3);
    const packed = packedKdLoss(tf.tensor2d(p.data, p.shape), s, kd).dataSync()[0]!;
    const direct = kdLoss(tf, tf.tensor1d(labels, "int32"), s, tf.tensor2d(teacher, [3, 3]), kd);
    expect(packed).toBeCloseTo(direct.dataSync()[0]!, 6);
    const q = packTargets(labels, null, 3);
    const ce = packedKdLoss(tf.tensor2d(q.data, q.shape), s, null).dataSync()[0]!;
    const hard = kdLoss(tf, tf.tensor1d(labels, "int32"), s, null, { lambda: 1, T: 1 });
    expect(ce).toBeCloseTo(hard.dataSync()[0]!, 6);
    expect(ce).not.toBeCloseTo(packed, 3);
    expect(() => packedKdLoss(tf.tensor2d(q.data, q.shape), s, kd)).toThrow(/no teacher/);
  });
});
