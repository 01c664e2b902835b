// Quantizers against float64 references (ties included), packing layouts byte by byte, and the
// ternary matmul bit-identical across ISA variants and thread counts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { absSum64 } from "./absmean";
import { Tensor, backendInfo, fromArray, getNumThreads, packTernary, quantizeActivationsInt8, quantizeWeightsTernary, randn, setIsa, setNumThreads, ternaryMatmul, tidy, unpackTernary, wrap, Generator, memoryStats, profile } from "../../src";
import { paddedCols } from "../../src/quant";

const f32 = Math.fround;
const EPS = f32(1e-5);

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Reference of the recipe's activation quantizer (float32 arithmetic, computed in float64). */
function refActivations(x: Float32Array, m: number, k: number): { q: Int8Array; s: Float32Array; sum: Int32Array } {
  const q = new Int8Array(m * k);
  const s = new Float32Array(m);
  const sum = new Int32Array(m);
  for (let i = 0; i < m; i++) {
    let amax = 0;
    for (let j = 0; j < k; j++) amax = Math.max(amax, Math.abs(x[i * k + j]));
    const scale = f32(127 / Math.max(amax, EPS));
    s[i] = scale;
    for (let j = 0; j < k; j++) {
      const v = Math.min(127, Math.max(-128, roundHalfEven(f32(x[i * k + j] * scale))));
      q[i * k + j] = v;
      sum[i] += v;
    }
  }
  return { q, s, sum };
}

/** Reference absmean: |w| summed in float64 in the order the kernel uses. */
function refWeights(w: Float32Array, begin: number, len: number): { codes: number[]; s: number } {
  const total = absSum64(w, begin, len);
  const s = Math.max(f32(total / len), EPS);
  const codes: number[] = [];
  for (let i = 0; i < len; i++) codes.push(Math.min(1, Math.max(-1, roundHalfEven(f32(w[begin + i] / s)))) || 0);
  return { codes, s };
}

const isas = backendInfo().isa.supported;

function eachVariant<T>(fn: (label: string) => T): Map<string, T> {
  const before = getNumThreads();
  const out = new Map<string, T>();
  try {
    for (const isa of isas) {
      for (const threads of [1, 2]) {
        setIsa(isa as "scalar");
        setNumThreads(threads);
        out.set(`${isa}/t${threads}`, fn(`${isa}/t${threads}`));
      }
    }
  } finally {
    setIsa("auto");
    setNumThreads(before);
  }
  return out;
}

test("activation quantizer is bit-exact with the float64 reference on random rows, every variant", () => {
  const before = memoryStats().liveTensors;
  const m = 37;
  const k = 1000;
  const x = randn([m, k], { seed: 11, std: 3 });
  const xs = x.data();
  xs[5] = 0; // a row with tiny values exercises the 1e-5 floor
  for (let j = 0; j < k; j++) xs[2 * k + j] = xs[2 * k + j] * 1e-7;
  const ref = refActivations(xs, m, k);
  const results = eachVariant(() => {
    const q = quantizeActivationsInt8(x);
    try {
      const values = q.values.contiguous();
      assert.deepEqual(values.data(), ref.q);
      values.dispose();
      assert.deepEqual(q.scales.data(), ref.s);
      assert.deepEqual(q.sums.data(), ref.sum);
      const pad = q.padded.data();
      for (let i = 0; i < m; i++) for (let j = k; j < paddedCols(k); j++) assert.equal(pad[i * paddedCols(k) + j], 0);
      return Buffer.from(q.padded.data().buffer, q.padded.data().byteOffset, q.padded.data().byteLength).toString("base64");
    } finally {
      q.dispose();
    }
  });
  assert.equal(new Set(results.values()).size, 1);
  x.dispose();
  assert.equal(memoryStats().liveTensors, before);
});

test("activation quantizer rounds ties to even", () => {
  // max |x| = 127 makes s = 1 exactly, so x * s keeps the .5 ties.
  const x = fromArray([[127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.5, -126.5]]);
  tidy(() => {
    const q = quantizeActivationsInt8(x);
    assert.equal(q.scales.get(0), 1);
    assert.deepEqual(q.values.values(), [127, 0, 2, 2, 0, -2, -2, 4, -126]);
    q.dispose();
  });
  x.dispose();
});

test("weight quantizer is bit-exact with the reference: per tensor, per channel, per group; ties to even", () => {
  const n = 19;
  const k = 300;
  const w = randn([n, k], { seed: 5, std: 0.02 });
  const wd = w.data();
  for (const mode of ["tensor", "channel", "group128"] as const) {
    const results = eachVariant(() => {
      const q = quantizeWeightsTernary(w, { mode });
      const out = { codes: Array.from(q.codes.data()), scales: Array.from(q.scales.data()) };
      q.dispose();
      return out;
    });
    const expected = { codes: [] as number[], scales: [] as number[] };
    if (mode === "tensor") {
      const r = refWeights(wd, 0, n * k);
      expected.codes = r.codes;
      expected.scales = [r.s];
    } else {
      const span = mode === "channel" ? k : 128;
      for (let i = 0; i < n; i++) {
        for (let b = 0; b < k; b += span) {
          const r = refWeights(wd, i * k + b, Math.min(span, k - b));
          expected.codes.push(...r.codes);
          expected.scales.push(r.s);
        }
      }
    }
    for (const [label, got] of results) {
      assert.deepEqual(got.scales, expected.scales.map(f32), `${mode} ${label}`);
      assert.deepEqual(got.codes, expected.codes, `${mode} ${label}`);
    }
  }
  w.dispose();
  // mean |w| = 1 exactly: w / s hits the ties 0.5 -> 0, -0.5 -> 0, 1.5 -> 2 -> clamp 1.
  const ties = fromArray([[0.5, -0.5, 1.5, -1.5, 1, -1]]);
  const q = quantizeWeightsTernary(ties);
  assert.equal(q.scales.get(0), 1);
  assert.deepEqual(q.codes.values(), [0, 0, 1, -1, 1, -1]);
  q.dispose();
  ties.dispose();
  const zero = fromArray([[0, 0], [0, 0]]);
  const qz = quantizeWeightsTernary(zero);
  assert.equal(qz.scales.get(0), EPS, "the 1e-5 floor");
  qz.dispose();
  zero.dispose();
});

function randomTernary(n: number, k: number, seed: number): Tensor<"i8"> {
  const g = new Generator(seed);
  const bits = new Uint32Array(n * k);
  g.nextUint32(bits);
  return wrap(Int8Array.from(bits, (b) => (b % 3) - 1), { shape: [n, k] });
}

test("packing round-trips in every layout for shapes that are not block multiples, every variant and thread count", () => {
  const cases: [string, number, number][] = [
    ["tl256", 1, 1], ["tl256", 3, 7], ["tl256", 17, 130], ["tl256", 5, 513], ["tl256", 301, 700],
    ["i2s", 1, 128], ["i2s", 3, 384], ["i2s", 7, 1280], ["i2s", 301, 256],
    ["hf", 4, 1], ["hf", 8, 13], ["hf", 36, 130], ["hf", 404, 260],
  ];
  for (const [layout, n, k] of cases) {
    const w = randomTernary(n, k, n * 1000 + k);
    const results = eachVariant(() => {
      const p = packTernary(w, { layout: layout as "tl256" });
      const back = unpackTernary(p);
      assert.deepEqual(back.data(), w.data(), `${layout} ${n}x${k}`);
      const bytes = Buffer.from(p.data.data()).toString("base64");
      back.dispose();
      p.dispose();
      return bytes;
    });
    assert.equal(new Set(results.values()).size, 1, `${layout} ${n}x${k}: packed bytes differ between ${[...results.keys()].join(", ")}`);
    w.dispose();
  }
});

test("packing and unpacking name the same first bad element in every variant and thread count", () => {
  // Bad values in several rows (and, for hf, in a later quarter of an earlier packed row): the
  // reported element is the first one a single pass over the rows meets.
  for (const [layout, n, k] of [["tl256", 300, 300], ["i2s", 300, 256], ["hf", 400, 130]] as const) {
    const w = randomTernary(n, k, 5);
    const v = w.data();
    v[250 * k + 7] = 2;
    v[120 * k + 99] = -2;
    v[299 * k] = 127;
    const reports = eachVariant(() => {
      try {
        packTernary(w, { layout }).dispose();
        return "no error";
      } catch (e) {
        return (e as Error).message;
      }
    });
    assert.equal(new Set(reports.values()).size, 1, `${layout}: ${JSON.stringify([...reports])}`);
    assert.match([...reports.values()][0], layout === "hf" ? /w\[\d+\] = (2|-2|127)/ : new RegExp(`w\\[${120 * k + 99}\\] = -2`));
    v[250 * k + 7] = 0;
    v[120 * k + 99] = 0;
    v[299 * k] = 0;
    const p = packTernary(w, { layout });
    const bytes = p.data.data();
    // Code 3 is invalid: plant it in two places of the packed data.
    bytes[Math.floor(bytes.length * 0.7)] |= 0x03;
    bytes[Math.floor(bytes.length * 0.3)] |= 0x30;
    const unpackReports = eachVariant(() => {
      try {
        unpackTernary(p).dispose();
        return "no error";
      } catch (e) {
        return (e as Error).message;
      }
    });
    assert.equal(new Set(unpackReports.values()).size, 1, `${layout} unpack: ${JSON.stringify([...unpackReports])}`);
    assert.match([...unpackReports.values()][0], /code 3 for weight \d+/);
    p.dispose();
    w.dispose();
  }
});

test("tl256 matches its byte rule exactly (rows in groups of four, partial last block, padding code 1), every variant", () => {
  const [n, k] = [6, 300];
  const w = randomTernary(n, k, 7);
  const v = w.data();
  const kp = 512;
  const expected = new Uint8Array(8 * (kp / 4)).fill(0x55);
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const block = Math.floor(c / 256);
      const within = c % 256;
      const byte = Math.floor(r / 4) * kp + block * 256 + (r % 4) * 64 + (within % 64);
      const shift = 2 * Math.floor(within / 64);
      expected[byte] = (expected[byte] & ~(3 << shift)) | ((v[r * k + c] + 1) << shift);
    }
  }
  eachVariant((label) => {
    const p = packTernary(w, { layout: "tl256" });
    assert.deepEqual(p.data.data(), expected, label);
    p.dispose();
  });
  w.dispose();
});

test("I2_S and Hugging Face layouts match their byte rules exactly, every variant", () => {
  const n = 8;
  const k = 256;
  const w = randomTernary(n, k, 99);
  const v = w.data();
  // I2_S (x86): 128-weight blocks of 32 bytes; byte j holds j, j+32, j+64, j+96 at bits 6,4,2,0.
  const i2s = new Uint8Array((n * k) / 4);
  for (let flat = 0; flat < n * k; flat++) {
    const block = Math.floor(flat / 128);
    const within = flat % 128;
    i2s[block * 32 + (within % 32)] |= (v[flat] + 1) << (6 - 2 * Math.floor(within / 32));
  }
  // HF: uint8 [N/4, K]; byte [r, c] holds rows r, r+R, r+2R, r+3R at bits 0,2,4,6.
  const R = n / 4;
  const hf = new Uint8Array(R * k);
  for (let row = 0; row < n; row++) for (let c = 0; c < k; c++) hf[(row % R) * k + c] |= (v[row * k + c] + 1) << (2 * Math.floor(row / R));
  eachVariant((label) => {
    const pi = packTernary(w, { layout: "i2s" });
    const ph = packTernary(w, { layout: "hf" });
    assert.deepEqual(pi.data.data(), i2s, label);
    assert.deepEqual(ph.data.data(), hf, label);
    pi.dispose();
    ph.dispose();
  });
  w.dispose();
});

/** Exact reference: integer dots, then (dot * ws) / xs in float64, rounded once to float32. */
function refMatmul(xq: Int8Array, xs: Float32Array, codes: Int8Array, ws: number[], m: number, n: number, k: number): Float32Array {
  const out = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let dot = 0;
      for (let t = 0; t < k; t++) dot += xq[i * k + t] * codes[j * k + t];
      out[i * n + j] = f32((dot * ws[ws.length === 1 ? 0 : j]) / xs[i]);
    }
  }
  return out;
}

for (const [n, k] of [[1, 1], [3, 7], [17, 130], [33, 2100], [257, 1000], [2560, 6912]] as const) {
  test(`ternaryMatmul ${n}x${k}: bit-identical across ISA variants and 1/2 threads, exact vs reference`, () => {
    const before = memoryStats().liveTensors;
    const big = n * k > 1e6;
    // m = 301 takes the AVX-512 panel kernel (m > 256) with a partial tile; 4..256 the short-M kernel.
    for (const m of big ? [1, 5] : [1, 4, 9, 301]) {
      const x = randn([m, k], { seed: m * 7 + n });
      const q = quantizeActivationsInt8(x);
      const w = randomTernary(n, k, n + k);
      const perRow = n % 2 === 1 && n > 1;
      const scale: Tensor<"f32"> | number = perRow ? wrap(Float32Array.from({ length: n }, (_, i) => 0.01 + i * 1e-4), { dtype: "f32" }) : 0.0123;
      const p = packTernary(w, { scale });
      const results = eachVariant(() => {
        const y = ternaryMatmul(q, p);
        const bytes = Buffer.from(y.data().buffer, y.data().byteOffset, y.data().byteLength).toString("base64");
        y.dispose();
        return bytes;
      });
      assert.equal(new Set(results.values()).size, 1, `m=${m}: ${[...results.keys()].join(", ")} disagree`);
      const y = ternaryMatmul(q, p);
      const ws = Array.from(p.scale.data());
      const xq = q.values.contiguous();
      const expected = refMatmul(xq.data(), q.scales.data(), w.data(), ws, m, big ? Math.min(n, 64) : n, k);
      const got = y.data();
      for (let i = 0; i < m; i++) for (let j = 0; j < Math.min(n, big ? 64 : n); j++) {
        assert.equal(got[i * n + j], expected[i * Math.min(n, big ? 64 : n) + j], `m=${m} [${i}, ${j}]`);
      }
      // Float reference: dequantized weights and activations, float64 matmul, within rounding.
      const xf = x.data();
      for (let i = 0; i < m; i++) for (let j = 0; j < Math.min(n, 8); j++) {
        let acc = 0;
        let mag = 0;
        for (let t = 0; t < k; t++) {
          const xd = xq.data()[i * k + t] / q.scales.data()[i];
          acc += xd * w.data()[j * k + t] * ws[ws.length === 1 ? 0 : j];
          mag += Math.abs(xf[i * k + t] * ws[ws.length === 1 ? 0 : j]);
        }
        assert.ok(Math.abs(got[i * n + j] - acc) <= 1e-5 * mag + 1e-6, `float reference [${i}, ${j}]: ${got[i * n + j]} vs ${acc}`);
      }
      // The raw four-argument form gives the same result.
      const raw = ternaryMatmul(xq, q.scales, p);
      assert.deepEqual(raw.data(), y.data());
      [x, w, xq, y, raw].forEach((t) => t.dispose());
      if (scale instanceof Tensor) scale.dispose();
      q.dispose();
      p.dispose();
    }
    assert.equal(memoryStats().liveTensors, before);
  });
}

test("non-tl256 packed weights are repacked once for the kernels, with the same results", () => {
  const w = randomTernary(16, 256, 3);
  const x = randn([2, 256], { seed: 2 });
  const q = quantizeActivationsInt8(x);
  const results = (["tl256", "i2s", "hf"] as const).map((layout) => {
    const p = packTernary(w, { layout, scale: 0.5 });
    const y = ternaryMatmul(q, p);
    const v = Array.from(y.data());
    assert.equal(p.kernelLayout(), p.kernelLayout(), "cached");
    y.dispose();
    p.dispose();
    return v;
  });
  assert.deepEqual(results[1], results[0]);
  assert.deepEqual(results[2], results[0]);
  [w, x].forEach((t) => t.dispose());
  q.dispose();
});

test("the profiler records every kernel call with ops and bytes; Chrome trace and Arrow outputs", async () => {
  const x = randn([4, 512], { seed: 1 });
  const w = randomTernary(64, 512, 1);
  const p = packTernary(w, { scale: 0.1 });
  const { result, report } = await profile(() => {
    const q = quantizeActivationsInt8(x);
    const y = ternaryMatmul(q, p);
    q.dispose();
    return y;
  });
  const kernels = report.records.map((r) => r.kernel);
  assert.deepEqual(kernels, ["quantizeActivationsInt8", "ternaryMatmul"]);
  const mm = report.records[1];
  assert.equal(mm.ops, 2 * 4 * 64 * 512);
  assert.equal(mm.bytes, (64 * 512) / 4 + 4 * 512 + 4 * 4 * 64);
  assert.equal(mm.variant, backendInfo().families.find((f) => f.name === "ternary")!.chosen);
  assert.equal(mm.threads, getNumThreads());
  assert.ok(mm.durationUs > 0);
  const totals = report.totals();
  assert.equal(totals.length, 2);
  const t = totals.find((r) => r.kernel === "ternaryMatmul")!;
  assert.ok(Math.abs(t.gops - t.ops / t.totalUs / 1e3) < 1e-9);
  const trace = report.toChromeTrace();
  const ev = trace.traceEvents.filter((e) => (e as { ph: string }).ph === "X") as { name: string; dur: number; ts: number }[];
  assert.deepEqual(ev.map((e) => e.name), kernels);
  assert.ok(ev[1].ts >= ev[0].ts + ev[0].dur - 1e-6, "events are ordered on the timeline");
  JSON.parse(JSON.stringify(trace));
  const table = report.toArrow();
  assert.equal(table.numRows, 2);
  assert.equal(table.getChild("kernel")!.get(1), "ternaryMatmul");
  assert.match(report.toString(), /ternaryMatmul/);
  // Outside a profile nothing is recorded.
  const y2 = ternaryMatmul(quantizeActivationsInt8(x), p);
  assert.equal(report.records.length, 2);
  [x, w, result, y2].forEach((z) => z.dispose());
  p.dispose();
});

test("buffer reuse: quantizeActivationsInt8 { into } and ternaryMatmul { out } give the same numbers", () => {
  const before = memoryStats().liveTensors;
  const w = randomTernary(40, 300, 8);
  const p = packTernary(w, { scale: 0.25 });
  const x1 = randn([3, 300], { seed: 1 });
  const x2 = randn([3, 300], { seed: 2 });
  const q = quantizeActivationsInt8(x1);
  const out = ternaryMatmul(q, p);
  const fresh2 = quantizeActivationsInt8(x2);
  const expected2 = ternaryMatmul(fresh2, p);
  const reused = quantizeActivationsInt8(x2, { into: q });
  assert.equal(reused, q, "into is returned");
  assert.deepEqual(q.padded.data(), fresh2.padded.data());
  assert.deepEqual(q.scales.data(), fresh2.scales.data());
  assert.deepEqual(q.sums.data(), fresh2.sums.data());
  assert.equal(ternaryMatmul(q, p, { out }), out, "out is returned");
  assert.deepEqual(out.data(), expected2.data());
  // Mismatched or dead buffers are refused before anything is written.
  const other = randn([2, 300], { seed: 3 });
  assert.throws(() => quantizeActivationsInt8(other, { into: q }), /^RangeError: quantizeActivationsInt8: into holds \[3, 300\] activations, x is \[2, 300\]$/);
  assert.throws(() => quantizeActivationsInt8(x1, { into: {} as never }), /^TypeError: quantizeActivationsInt8: into must be a live QuantizedActivations/);
  const wrongOut = zerosF32([3, 39]);
  assert.throws(() => ternaryMatmul(q, p, { out: wrongOut }), /^RangeError: ternaryMatmul: out must have shape \[3, 40\], received \[3, 39\]$/);
  assert.throws(() => ternaryMatmul(q, p, 5 as never), /^TypeError: ternaryMatmul: options must be an object/);
  assert.deepEqual(out.data(), expected2.data(), "a refused call leaves out untouched");
  [w, x1, x2, out, expected2, other, wrongOut].forEach((t) => t.dispose());
  [q, fresh2, p].forEach((t) => t.dispose());
  assert.equal(memoryStats().liveTensors, before);
});

function zerosF32(shape: number[]): Tensor<"f32"> {
  return randn(shape, { seed: 0 });
}
