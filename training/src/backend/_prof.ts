import { initBackend, smallConvNet, trainStep } from "./index";

const { tf } = await initBackend({ backend: process.argv[2] === "cpu" ? "cpu" : "wasm" });
const model = smallConvNet([32, 32, 3], 10, 1);
const opt = tf.train.adam(1e-3);
const x = tf.randomUniform([64, 32, 32, 3]);
const y = tf.oneHot(
  tf.tensor1d(
    Array.from({ length: 64 }, (_, i) => i % 10),
    "int32",
  ),
  10,
);
const eng = tf.engine();
const orig = eng.runKernel.bind(eng);
const acc = new Map<string, number>();
let depth = 0;
let on = false;
eng.runKernel = ((name: string, inputs: never, attrs: never) => {
  if (!on || depth > 0) return orig(name, inputs, attrs);
  depth++;
  const t0 = performance.now();
  try {
    return orig(name, inputs, attrs);
  } finally {
    depth--;
    acc.set(name, (acc.get(name) ?? 0) + performance.now() - t0);
  }
}) as typeof eng.runKernel;
const step = () => {
  const { loss, grads } = trainStep(model, opt, x, y);
  loss.dataSync();
  tf.dispose([loss, ...Object.values(grads)]);
};
step();
on = true;
const t0 = performance.now();
for (let i = 0; i < 5; i++) step();
console.log("step ms", ((performance.now() - t0) / 5).toFixed(1));
const tot = [...acc.values()].reduce((a, b) => a + b, 0) / 5;
console.log("kernel total", tot.toFixed(1));
for (const [k, v] of [...acc.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14))
  console.log(k.padEnd(40), (v / 5).toFixed(1));
