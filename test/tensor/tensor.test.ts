// Tensor core: creation, views, copies, conversion, printing and memory accounting.
import { test } from "node:test";
import assert from "node:assert/strict";
import { addon } from "../../src/backend/addon";
import {
  Tensor, backendInfo, setIsa, setNumThreads, getNumThreads, tidy, keep, arange, concat, empty, fromArray, full, memoryStats, ones, rand, randn, resetPeakMemory, wrap, zeros, Generator,
  numberToF16Bits, numberToBf16Bits, f16BitsToNumber, bf16BitsToNumber, setMemoryLimit, getMemoryLimit,
} from "../../src";

/** Runs `body` inside tidy(), then checks that it left no live tensor behind. */
function noLeaks(name: string, body: () => void): void {
  test(name, () => {
    const before = memoryStats().liveTensors;
    tidy(body);
    assert.equal(memoryStats().liveTensors, before, "every tensor made by the test was disposed");
  });
}

/** Disposes every tensor argument after running fn on them. */
function using<T>(ts: Tensor[], fn: () => T): T {
  try {
    return fn();
  } finally {
    ts.forEach((t) => t.dispose());
  }
}

noLeaks("creation functions fill the right values and dtypes", () => {
  const z = zeros([2, 3]);
  const o = ones([4], { dtype: "i8" });
  const f = full([2, 2], 2.5, { dtype: "f16" });
  const b = full([3], -1.5, { dtype: "bf16" });
  const a = arange(5);
  const af = arange(0, 1, 0.25);
  const t = fromArray([[1, 2, 3], [4, 5, 6]]);
  using([z, o, f, b, a, af, t], () => {
    assert.deepEqual(z.shape, [2, 3]);
    assert.equal(z.dtype, "f32");
    assert.deepEqual(Array.from(z.data()), [0, 0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(o.data()), [1, 1, 1, 1]);
    assert.equal(o.data().constructor, Int8Array);
    assert.deepEqual(Array.from(f.data()), Array(4).fill(numberToF16Bits(2.5)));
    assert.deepEqual(b.values(), [-1.5, -1.5, -1.5]);
    assert.equal(a.dtype, "i32");
    assert.deepEqual(a.values(), [0, 1, 2, 3, 4]);
    assert.equal(af.dtype, "f32");
    assert.deepEqual(af.values(), [0, 0.25, 0.5, 0.75]);
    assert.deepEqual(t.toArray(), [[1, 2, 3], [4, 5, 6]]);
    assert.equal(t.get(1, -1), 6);
  });
});

noLeaks("fresh storage is 64-byte aligned, zeros are zero even for large tensors", () => {
  for (const n of [1, 3, 1000, 1 << 20]) {
    const t = zeros([n], { dtype: "u8" });
    assert.equal(addon().alignmentOf(t.data()) % 64, 0, `size ${n}`);
    assert.ok(t.data().every((v) => v === 0));
    t.dispose();
  }
});

noLeaks("fromArray takes typed arrays, shapes and integer dtypes exactly", () => {
  const i = fromArray(new Int32Array([2147483647, -2147483648, 7]));
  const s = fromArray([1, 2, 3, 4, 5, 6], { shape: [3, 2], dtype: "i8" });
  using([i, s], () => {
    assert.equal(i.dtype, "i32");
    assert.deepEqual(i.values(), [2147483647, -2147483648, 7]);
    assert.deepEqual(s.toArray(), [[1, 2], [3, 4], [5, 6]]);
  });
});

noLeaks("reshape and view share storage; -1 is inferred", () => {
  const t = arange(24, undefined, 1, { dtype: "f32" });
  const r = t.reshape([2, -1, 4]);
  const v = r.view([4, 6]);
  using([t, r, v], () => {
    assert.deepEqual(r.shape, [2, 3, 4]);
    v.data()[5] = 100;
    assert.equal(t.get(5), 100, "writes through a view reach the base");
    assert.equal(r.get(0, 1, 1), 100);
  });
});

/** Reference gather for a strided view, written plainly. */
function gather(base: number[], shape: readonly number[], strides: readonly number[], offset: number): number[] {
  const out: number[] = [];
  const idx = new Array(shape.length).fill(0);
  const total = shape.reduce((a, b) => a * b, 1);
  for (let n = 0; n < total; n++) {
    out.push(base[offset + idx.reduce((acc, v, d) => acc + v * strides[d], 0)]);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

noLeaks("transpose, permute and slice are views; contiguous() copies them correctly", () => {
  const base = arange(2 * 3 * 4 * 5, undefined, 1, { dtype: "f32" });
  const t = base.reshape([2, 3, 4, 5]);
  const values = base.values();
  const p = t.permute([3, 1, 0, 2]);
  const tr = t.transpose(-1, 0);
  const s = t.slice(2, 1, 4, 2).slice(3, -3);
  const pc = p.contiguous();
  const trc = tr.contiguous();
  const sc = s.contiguous();
  using([base, t, p, tr, s, pc, trc, sc], () => {
    assert.equal(p.isContiguous(), false);
    assert.deepEqual(p.shape, [5, 3, 2, 4]);
    assert.deepEqual(pc.values(), gather(values, p.shape, p.strides, p.offset));
    assert.deepEqual(trc.values(), gather(values, tr.shape, tr.strides, tr.offset));
    assert.deepEqual(s.shape, [2, 3, 2, 3]);
    assert.deepEqual(sc.values(), gather(values, s.shape, s.strides, s.offset));
    assert.equal(s.get(1, 2, 1, 0), values[1 * 60 + 2 * 20 + 3 * 5 + 2]);
    assert.ok(pc.isContiguous());
    assert.throws(() => p.view([120]), /not contiguous/);
    const r = p.reshape([120]); // reshape copies when it must
    assert.deepEqual(r.values(), pc.values());
    r.dispose();
  });
});

noLeaks("transposes made contiguous (tiled copies) equal the index rule for every element size and odd shapes, every variant and thread count", () => {
  // The variants copy a source strided in its last dimension in transposed tiles; edges of
  // every size and runs cut by the threads' row split must land exactly.
  const before = getNumThreads();
  try {
    for (const dtype of ["u8", "bf16", "f32"] as const) {
      for (const [shape, perm] of [
        [[37, 21], [1, 0]],
        [[3, 19, 45], [0, 2, 1]],
        [[2, 64, 33, 5], [0, 2, 1, 3]],
        [[5, 70, 2, 9], [3, 0, 2, 1]],
        [[8, 8], [1, 0]],
        [[3, 301, 131], [0, 2, 1]],
      ] as [number[], number[]][]) {
        const count = shape.reduce((a, b) => a * b, 1);
        const base = arange(count, undefined, 1, { dtype: "f32" });
        const src = (dtype === "f32" ? base.clone() : dtype === "bf16" ? base.to("bf16") : wrap(Uint8Array.from(base.values(), (v) => v % 251), { dtype: "u8" })).reshape(shape);
        const p = src.permute(perm);
        const expected = gather(src.values(), p.shape, p.strides, p.offset);
        for (const isa of backendInfo().isa.supported) {
          for (const threads of [1, 2]) {
            setIsa(isa as "scalar");
            setNumThreads(threads);
            const c = p.contiguous();
            assert.deepEqual(c.values(), expected, `${dtype} ${shape} permute ${perm} ${isa}/${threads}`);
            c.dispose();
          }
        }
        [base, src, p].forEach((t) => t.dispose());
      }
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
});

noLeaks("slice clamps like Python and supports empty results", () => {
  const t = arange(10, undefined, 1, { dtype: "f32" });
  const a = t.slice(0, -3);
  const b = t.slice(0, 5, 100);
  const c = t.slice(0, 7, 3);
  const d = t.slice(0, 1, 10, 3);
  using([t, a, b, c, d], () => {
    assert.deepEqual(a.values(), [7, 8, 9]);
    assert.deepEqual(b.values(), [5, 6, 7, 8, 9]);
    assert.deepEqual(c.shape, [0]);
    assert.deepEqual(d.values(), [1, 4, 7]);
  });
});

noLeaks("concat along every dimension, including strided inputs", () => {
  const a = arange(24, undefined, 1, { dtype: "f32" }).reshape([2, 3, 4]);
  const b = full([2, 3, 4], -1);
  const bt = full([4, 3, 2], 7).permute([2, 1, 0]);
  const parts: Tensor[] = [a, b, bt];
  for (let dim = 0; dim < 3; dim++) {
    const c = concat([a, b, bt], dim);
    const expected: number[] = [];
    const shape = [2, 3, 4];
    const out = shape.slice();
    out[dim] *= 3;
    assert.deepEqual(c.shape, out);
    // Reference: index each output element back into its source.
    for (let i = 0; i < out[0]; i++) for (let j = 0; j < out[1]; j++) for (let k = 0; k < out[2]; k++) {
      const idx = [i, j, k];
      const which = Math.floor(idx[dim] / shape[dim]);
      idx[dim] -= which * shape[dim];
      expected.push(parts[which].get(...idx));
    }
    assert.deepEqual(c.values(), expected, `dim ${dim}`);
    c.dispose();
  }
});

noLeaks("dtype conversion: f16/bf16 round to nearest even, integers truncate and check range", () => {
  const x = fromArray([1.0001, -2.5, 65519, 65520, 1e-8, 3.14159, NaN]);
  const h = x.to("f16");
  const bf = x.to("bf16");
  const back = h.to("f32");
  const i = fromArray([1.9, -1.9, 127.5, -128.2]).to("i8");
  using([x, h, bf, back, i], () => {
    const xs = x.values();
    assert.deepEqual(Array.from(h.data()), xs.map(numberToF16Bits));
    assert.deepEqual(Array.from(bf.data()), xs.map(numberToBf16Bits));
    assert.equal(back.get(2), 65504);
    assert.equal(back.get(3), Infinity);
    assert.deepEqual(i.values(), [1, -1, 127, -128]);
    assert.throws(() => x.to("i32"), /element 6 is NaN/);
    const big = fromArray([200]);
    assert.throws(() => big.to("i8"), /RangeError|outside \[-128, 127\]/);
    big.dispose();
    const viaBf = bf.to("f16");
    assert.equal(viaBf.get(1), -2.5);
    viaBf.dispose();
  });
});

noLeaks("ternary2 packs four weights a byte, code = w + 1, low bits first", () => {
  const w = fromArray([-1, 0, 1, 1, 0, -1, 1], { dtype: "i8" });
  const p = w.to("ternary2");
  const u = p.to("i8");
  const f = p.to("f32");
  using([w, p, u, f], () => {
    assert.equal(p.nbytes, 2);
    // byte 0: codes 0,1,2,2 -> 0 | 1<<2 | 2<<4 | 2<<6 = 0xa4; byte 1: codes 1,0,2 -> 1 | 0<<2 | 2<<4 = 0x21
    assert.deepEqual(Array.from(p.data()), [0xa4, 0x21]);
    assert.deepEqual(u.values(), [-1, 0, 1, 1, 0, -1, 1]);
    assert.deepEqual(f.values(), [-1, 0, 1, 1, 0, -1, 1]);
    assert.equal(p.get(5), -1);
    assert.throws(() => fromArray([2], { dtype: "i8" }).to("ternary2"), /expected -1, 0 or 1/);
  });
});

test("random tensors: same seed same bits, generator streams continue, sane moments", () => {
  const a = randn([1000], { seed: 42 });
  const b = randn([1000], { seed: 42 });
  const g = new Generator(42);
  const c1 = randn([500], { generator: g });
  const c2 = randn([500], { generator: g });
  const u = rand([100000], { seed: 1, low: -2, high: 2 });
  const big = randn([200000], { seed: 3, mean: 1, std: 2 });
  try {
    assert.deepEqual(a.data(), b.data());
    assert.deepEqual([...c1.data(), ...c2.data()], Array.from(a.data()));
    const uv = u.data();
    assert.ok(uv.every((v) => v >= -2 && v < 2));
    const m = big.data().reduce((s, v) => s + v, 0) / big.numel;
    const sd = Math.sqrt(big.data().reduce((s, v) => s + (v - m) ** 2, 0) / big.numel);
    assert.ok(Math.abs(m - 1) < 0.03, `mean ${m}`);
    assert.ok(Math.abs(sd - 2) < 0.03, `std ${sd}`);
    const h = randn([8], { seed: 42, dtype: "bf16" });
    assert.deepEqual(Array.from(h.data()), Array.from(a.data().slice(0, 8)).map(numberToBf16Bits));
    h.dispose();
  } finally {
    [a, b, c1, c2, u, big].forEach((t) => t.dispose());
  }
});

test("toString is a PyTorch-like summary", () => {
  const t = fromArray([[1, 2], [3, 4]]);
  const f = fromArray([0.5, -1.25, 3]);
  const i = fromArray([1, -2], { dtype: "i8" });
  const big = arange(2000, undefined, 1, { dtype: "f32" }).reshape([40, 50]);
  try {
    assert.equal(t.toString(), "tensor([[1., 2.],\n        [3., 4.]])");
    assert.equal(f.toString(), "tensor([ 0.5000, -1.2500,  3.0000])");
    assert.equal(i.toString(), "tensor([ 1, -2], dtype=i8)");
    const s = big.toString();
    assert.match(s, /^tensor\(\[\[   0\.,    1\.,    2\., \.\.\.,   47\.,   48\.,   49\.\],/);
    assert.match(s, /\.\.\.,\n/);
    assert.match(s, /shape=\[40, 50\]\)$/);
    assert.equal(s.split("\n").length, 7);
  } finally {
    [t, f, i, big].forEach((x) => x.dispose());
  }
});

test("dispose frees storage at once; views keep their base alive; use after dispose throws", () => {
  const before = memoryStats();
  const t = zeros([1024, 256]); // 1 MiB
  const view = t.slice(0, 0, 10);
  const data = t.data();
  assert.equal(t.data(), data, "data() hands out one view per tensor");
  assert.notEqual(view.data(), data, "a view has its own typed array");
  assert.equal(view.data().length, 10 * 256);
  assert.equal(memoryStats().liveBytes - before.liveBytes, 1 << 20);
  t.dispose();
  t.dispose(); // idempotent
  assert.equal(view.get(3, 3), 0, "the view still reads its storage");
  assert.equal(data.length, 1 << 18, "storage not freed while a view lives");
  assert.throws(() => t.data(), /disposed/);
  assert.throws(() => t.reshape([-1]), /disposed/);
  view.dispose();
  assert.equal(data.length, 0, "the last dispose detaches every JS view of the memory");
  const after = memoryStats();
  assert.equal(after.liveTensors, before.liveTensors);
  assert.equal(after.liveBytes, before.liveBytes);
  assert.equal(after.nativeBytes, before.nativeBytes, "native memory returned immediately");
});

test("peak bytes track the high-water mark", () => {
  resetPeakMemory();
  const base = memoryStats().liveBytes;
  const a = empty([1 << 20], { dtype: "u8" });
  const b = empty([1 << 19], { dtype: "u8" });
  a.dispose();
  b.dispose();
  const s = memoryStats();
  assert.equal(s.peakBytes - base, (1 << 20) + (1 << 19));
  assert.equal(s.liveBytes, base);
});

test("wrap is zero-copy over caller memory and never frees it", () => {
  const arr = new Float32Array([1, 2, 3, 4, 5, 6]);
  const t = wrap(arr, { shape: [2, 3] });
  t.data()[0] = 42;
  assert.equal(arr[0], 42);
  arr[5] = -1;
  assert.equal(t.get(1, 2), -1);
  t.dispose();
  assert.equal(arr.length, 6, "caller memory untouched by dispose");
});

test("a tensor that is never disposed is accounted for when collected (FinalizationRegistry)", async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "tests run with --expose-gc (scripts/run-tests.js passes it)");
  for (let i = 0; i < 5; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  const before = memoryStats().liveTensors;
  (() => {
    for (let i = 0; i < 50; i++) zeros([256]);
  })();
  assert.equal(memoryStats().liveTensors, before + 50);
  for (let i = 0; i < 20 && memoryStats().liveTensors > before; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(memoryStats().liveTensors, before);
});

test("tidy disposes intermediates, keeps returned tensors (nested), and cleans up on throw", () => {
  const before = memoryStats().liveTensors;
  let kept: Tensor | undefined;
  const out = tidy(() => {
    const a = arange(12, undefined, 1, { dtype: "f32" });
    const inner = tidy(() => a.reshape([3, 4]).transpose(0, 1).contiguous());
    kept = keep(zeros([2]));
    return { result: inner.slice(0, 1), list: [inner] };
  });
  assert.equal(memoryStats().liveTensors, before + 3, "result, list[0] and the kept tensor survive");
  assert.deepEqual(out.result.toArray(), [[1, 5, 9], [2, 6, 10], [3, 7, 11]]);
  out.result.dispose();
  out.list[0].dispose();
  kept!.dispose();
  assert.equal(memoryStats().liveTensors, before);
  assert.throws(() => tidy(() => { zeros([4]); throw new Error("boom"); }), /boom/);
  assert.equal(memoryStats().liveTensors, before);
  assert.throws(() => tidy((async () => zeros([1])) as unknown as () => Tensor), /synchronous/);
  assert.equal(memoryStats().liveTensors, before);
});

test("f16/bf16 scalar helpers agree with known values", () => {
  assert.equal(f16BitsToNumber(0x3c00), 1);
  assert.equal(f16BitsToNumber(0x7bff), 65504);
  assert.equal(f16BitsToNumber(0x0001), 2 ** -24);
  assert.equal(bf16BitsToNumber(0x3f80), 1);
  assert.equal(numberToF16Bits(2 ** -25), 0, "tie at the smallest subnormal goes to even (zero)");
  assert.equal(numberToF16Bits(1 + 2 ** -11), 0x3c00, "tie goes to even");
  assert.equal(numberToF16Bits(1 + 3 * 2 ** -11), 0x3c02);
  assert.equal(numberToBf16Bits(1 + 2 ** -8), 0x3f80);
  assert.equal(numberToBf16Bits(1 + 3 * 2 ** -8), 0x3f82);
});

test("the memory limit turns a runaway loop into a named RangeError instead of an OOM kill", () => {
  const before = setMemoryLimit(memoryStats().nativeBytes + (8 << 20));
  try {
    const held: Tensor[] = [];
    assert.throws(
      () => {
        for (let i = 0; i < 100; i++) held.push(zeros([1 << 20])); // 4 MiB each, never disposed
      },
      (e: Error) => e instanceof RangeError && /^zeros: shape \[1048576\] needs 4194304 bytes \(f32\) but tensors already hold \d+ of the \d+-byte memory limit \(\d+ live tensors\); dispose/.test(e.message),
    );
    assert.ok(held.length >= 1 && held.length <= 2, `${held.length} allocations fit`);
    for (const t of held) t.dispose();
    zeros([1 << 20]).dispose(); // room again once disposed
    assert.throws(() => setMemoryLimit(-1), /setMemoryLimit: bytes must be a positive safe integer, received -1/);
    assert.throws(() => setMemoryLimit(0), /setMemoryLimit: bytes must be a positive safe integer, received 0/);
  } finally {
    setMemoryLimit(before);
  }
  assert.equal(getMemoryLimit(), before);
});

test("freed blocks are reused by exact size (no page faults for a training step's intermediates) and zeroed on request", () => {
  const sanitized = backendInfo().sanitized; // the sanitizer build frees at once so ASan sees every use after free
  const size = [256, 1024]; // 1 MiB
  const a = full(size, 7);
  const before = memoryStats().cachedBytes;
  a.dispose();
  const afterFree = memoryStats().cachedBytes;
  assert.equal(afterFree - before, sanitized ? 0 : (1 << 20) + 64);
  const b = zeros(size);
  assert.equal(memoryStats().cachedBytes, before, "the cached block is taken again");
  assert.ok(b.toFloat32Array().every((v) => v === 0), "a reused block is zeroed when zeros are asked for");
  b.dispose();
});

test("holding a training step's activations does not make V8 mark-compact (its ArrayBuffer count is offset, and balanced)", async () => {
  // The sanitizer build keeps no cache of freed blocks, so each round's 300 MiB is new memory
  // from the system, reported to V8 as it should be: collections are expected there, and only
  // the balance of the count is checked.
  const sanitized = backendInfo().sanitized;
  const { PerformanceObserver, constants } = await import("node:perf_hooks");
  let major = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e as unknown as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) major += 1;
  });
  observer.observe({ entryTypes: ["gc"] });
  const rounds = 20;
  const externalBefore = process.memoryUsage().external;
  try {
    // ~300 MiB held at once and then freed, as a forward pass holds what its backward needs:
    // counted by V8 as new external memory, this started about four mark-compacts per round.
    for (let r = 0; r < rounds; r++) {
      const held: Tensor[] = [];
      for (let i = 0; i < 300; i++) held.push(empty([1 << 18]));
      for (const t of held) t.dispose();
    }
    await new Promise((resolve) => setTimeout(resolve, 50)); // GC entries are delivered asynchronously
  } finally {
    observer.disconnect();
  }
  // Every offset taken at creation is given back at free: V8's count ends where it started
  // (a one-sided offset would leave it ~6 GB off).
  assert.ok(Math.abs(process.memoryUsage().external - externalBefore) < 16 << 20, `external memory moved by ${process.memoryUsage().external - externalBefore} bytes`);
  if (!sanitized) assert.ok(major <= rounds / 4, `${major} mark-compacts in ${rounds} rounds`);
});
