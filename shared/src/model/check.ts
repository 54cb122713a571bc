import { ExportFormatError } from "./errors";
import { convOutShape, formatShape, shapeEquals, shapeSize, windowOutSize } from "./geometry";
import type { Layer, ModelExport, Shape3, TensorRef } from "./types";

/**
 * Cross-field checks of a schema-valid export: tensor refs inside the blob
 * (`weightCount` int32 values) with lengths matching their shapes, weight and
 * bias shapes matching the layer, shapes, domains and fractional bits chaining
 * layer to layer from the uint8 input to [1, 1, classes] int logits.
 * Throws {@link ExportFormatError} naming `<file>: layers[i].<field>`.
 */
export function checkExport(model: ModelExport, weightCount: number, file = "model.json"): void {
  let shape: Shape3 = model.input.shape;
  let domain: "int" | "bits" = "int";
  let frac = 0;
  const names = new Set<string>();
  model.layers.forEach((l, i) => {
    const f = (field: string) => `${file}: layers[${i}].${field}`;
    const fail = (field: string, msg: string): never => {
      throw new ExportFormatError(f(field), `${msg} (layer "${l.name}")`);
    };
    if (names.has(l.name)) fail("name", `duplicate layer name`);
    names.add(l.name);
    if (!shapeEquals(l.inShape, shape)) {
      fail(
        "inShape",
        `is ${formatShape(l.inShape)} but the ${i === 0 ? "input" : "previous layer's output"} is ${formatShape(shape)}`,
      );
    }
    if (l.inDomain !== domain) {
      fail(
        "inDomain",
        `is "${l.inDomain}" but the ${i === 0 ? "input (uint8 pixels)" : "previous layer's output"} is "${domain}"`,
      );
    }
    const [h, w, c] = l.inShape;
    let expectOut: Shape3;
    let expectDomain: "int" | "bits";
    let expectFrac: number;
    const ref = (field: string, r: TensorRef, want: number[]) => {
      if (r.length !== shapeSize(r.shape)) {
        fail(
          `${field}.length`,
          `is ${r.length} but shape ${formatShape(r.shape)} holds ${shapeSize(r.shape)}`,
        );
      }
      if (r.offset + r.length > weightCount) {
        fail(
          `${field}.offset`,
          `${r.offset} + length ${r.length} is beyond the blob (${weightCount} int32 values)`,
        );
      }
      if (!shapeEquals(r.shape, want)) {
        fail(`${field}.shape`, `is ${formatShape(r.shape)}, expected ${formatShape(want)}`);
      }
    };
    const linear = (weightShape: number[], outShape: Shape3, lin: LinearLike) => {
      ref("weights", lin.weights, weightShape);
      const oc = outShape[2];
      const perPos = lin.bias.shape.length === 3;
      ref("bias", lin.bias, perPos ? [outShape[0], outShape[1], oc] : [oc]);
      const accFrac = lin.weights.fracBits + frac;
      if (lin.bias.fracBits !== accFrac) {
        fail(
          "bias.fracBits",
          `is ${lin.bias.fracBits}, expected weights.fracBits + input fracBits = ${accFrac}`,
        );
      }
      if (lin.outShift > accFrac) {
        fail("outShift", `${lin.outShift} is more than the product's ${accFrac} fractional bits`);
      }
      if (lin.outBoundBits !== undefined && i !== 0 && domain !== "bits") {
        fail(
          "outBoundBits",
          "is only allowed where the input range is known (the first layer or a layer reading bits)",
        );
      }
      expectOut = outShape;
      expectDomain = "int";
      expectFrac = accFrac - lin.outShift;
    };
    switch (l.kind) {
      case "conv2d":
      case "depthwise2d": {
        const outC = l.kind === "conv2d" ? (l.weights.shape[3] ?? 0) : c;
        const out = convOutShape(l.inShape, l.kernel, l.strides, l.padding, outC);
        if (out[0] < 1 || out[1] < 1) fail("kernel", "is larger than the padded input");
        const { top, bottom, left, right } = l.padding;
        if (
          top >= l.kernel[0] ||
          bottom >= l.kernel[0] ||
          left >= l.kernel[1] ||
          right >= l.kernel[1]
        ) {
          fail("padding", "must be smaller than the kernel on every side");
        }
        linear(
          l.kind === "conv2d"
            ? [l.kernel[0], l.kernel[1], c, outC]
            : [l.kernel[0], l.kernel[1], c, 1],
          out,
          l,
        );
        break;
      }
      case "pointwise2d": {
        const outC = l.weights.shape[1] ?? 0;
        linear([c, outC], [h, w, outC], l);
        break;
      }
      case "dense": {
        const outN = l.weights.shape[1] ?? 0;
        linear([h * w * c, outN], [1, 1, outN], l);
        break;
      }
      case "sign":
        if (domain !== "int") fail("inDomain", 'sign reads "int" values');
        expectOut = l.inShape;
        expectDomain = "bits";
        expectFrac = 0;
        break;
      case "relu":
        if (domain !== "int") fail("inDomain", 'relu reads "int" values');
        expectOut = l.inShape;
        expectDomain = "int";
        expectFrac = frac;
        break;
      case "maxpool": {
        const want = l.mode === "max" ? "int" : "bits";
        if (domain !== want) fail("mode", `"${l.mode}" needs "${want}" input, got "${domain}"`);
        const oh = windowOutSize(h, l.pool[0], l.strides[0]);
        const ow = windowOutSize(w, l.pool[1], l.strides[1]);
        if (oh < 1 || ow < 1) fail("pool", `does not fit the input ${formatShape(l.inShape)}`);
        expectOut = [oh, ow, c];
        expectDomain = domain;
        expectFrac = frac;
        break;
      }
    }
    const eo = expectOut!;
    if (!shapeEquals(l.outShape, eo)) {
      fail("outShape", `is ${formatShape(l.outShape)}, expected ${formatShape(eo)}`);
    }
    if (l.outDomain !== expectDomain!)
      fail("outDomain", `is "${l.outDomain}", expected "${expectDomain!}"`);
    if (l.outFracBits !== expectFrac!)
      fail("outFracBits", `is ${l.outFracBits}, expected ${expectFrac!}`);
    shape = l.outShape;
    domain = l.outDomain;
    frac = l.outFracBits;
  });
  const want: Shape3 = [1, 1, model.classes.length];
  const last = model.layers.length - 1;
  if (!shapeEquals(shape, want)) {
    throw new ExportFormatError(
      `${file}: layers[${last}].outShape`,
      `the last layer outputs ${formatShape(shape)}, expected ${formatShape(want)} (one logit per class)`,
    );
  }
  if (domain !== "int") {
    throw new ExportFormatError(
      `${file}: layers[${last}].outDomain`,
      `logits must be "int", got "${domain}"`,
    );
  }
}

type LinearLike = Extract<Layer, { weights: TensorRef }>;
