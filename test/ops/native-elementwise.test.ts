// Large tensors take the native element-wise kernels; small ones the JavaScript loops. Both must
// give the same bits (one correctly rounded float32 operation per element), and so must every
// ISA variant and thread count.
import { test } from "node:test";
import assert from "node:assert/strict";
import { backendInfo, getNumThreads, randn, setIsa, setNumThreads, Tensor } from "../../src";
import { add, div, mul, relu2, sub } from "../../src/ops/elementwise";
import { NATIVE_MIN_ELEMENTS } from "../../src/backend/kernels";

const f = Math.fround;

test("add/sub/mul/div and relu2 (with its gradient) over the native threshold equal the float32 reference", () => {
  const n = NATIVE_MIN_ELEMENTS + 1234;
  const a = randn([n], { seed: 1 });
  const b = randn([n], { seed: 2 });
  const ad = a.toFloat32Array(), bd = b.toFloat32Array();
  const before = getNumThreads();
  try {
    for (const isa of backendInfo().isa.supported) {
      for (const threads of [1, 2]) {
        setIsa(isa as "scalar");
        setNumThreads(threads);
        const cases: [string, (x: Tensor<"f32">, y: Tensor<"f32">) => Tensor<"f32">, (x: number, y: number) => number][] = [
          ["add", add, (x, y) => f(x + y)],
          ["sub", sub, (x, y) => f(x - y)],
          ["mul", mul, (x, y) => f(x * y)],
          ["div", div, (x, y) => f(x / y)],
        ];
        for (const [name, op, ref] of cases) {
          const y = op(a, b);
          const yd = y.toFloat32Array();
          for (let i = 0; i < n; i++) if (yd[i] !== ref(ad[i], bd[i]) && !(Number.isNaN(yd[i]) && Number.isNaN(ref(ad[i], bd[i])))) assert.fail(`${name} ${isa}/${threads}t at ${i}: ${yd[i]} vs ${ref(ad[i], bd[i])}`);
          y.dispose();
        }
        const x = a.clone().requiresGrad_();
        const y = relu2(x);
        y.backward(b);
        const yd = y.toFloat32Array(), gd = x.grad!.toFloat32Array();
        for (let i = 0; i < n; i++) {
          const v = ad[i];
          assert.equal(yd[i], v > 0 ? f(v * v) : 0, `relu2 at ${i}`);
          assert.equal(gd[i], v > 0 ? f(2 * v * bd[i]) : 0, `relu2 gradient at ${i}`);
        }
        for (const t of [x.grad!, x, y]) t.dispose();
      }
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
  a.dispose();
  b.dispose();
});
