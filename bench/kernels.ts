// `npm run bench -- kernels`: ternary GEMV/GEMM against the machine's read bandwidth and the
// bitnet.cpp figures in ../shared/anchors/bitnet-cpp.md. GOPS = 2*M*N*K per second with the
// activation quantization included; GB/s counts packed weight bytes.
import { addon } from "../src/backend/addon";
import { runKernel } from "../src/backend/hook";
import {
  PackedTernary, Tensor, getNumThreads, packTernary, paddedCols, quantizeActivationsInt8, randn, setNumThreads, ternaryMatmul, wrap, Generator,
} from "../src";
import { printTable, Row, writeResults } from "./report";

const SHAPES: [number, number][] = [
  [2560, 2560],
  [6912, 2560],
  [2560, 6912],
];
// bitnet.cpp v1.0 I2_S, 1 thread, cache-hot, activation quantization included (anchors file).
const BITNET_CPP_GOPS: Record<string, [number, number]> = { "2560x2560": [111, 138], "6912x2560": [136, 145], "2560x6912": [163, 171] };
const COLD_BYTES = 256 << 20;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Median microseconds per call of fn over `reps` timed batches of `iters` calls. */
function timeUs(fn: (i: number) => void, iters: number, reps = 7): number {
  for (let i = 0; i < Math.min(iters, 3); i++) fn(i);
  const out: number[] = [];
  let k = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn(k++);
    out.push(Number(process.hrtime.bigint() - t0) / 1e3 / iters);
  }
  return median(out);
}

function readBandwidth(threads: number): number {
  setNumThreads(threads);
  const buf = new Uint8Array(COLD_BYTES);
  new Generator(1).nextUint32(new Uint32Array(buf.buffer, 0, 1 << 16));
  buf.fill(1, 1 << 18);
  const us = timeUs(() => addon().streamRead(buf), 3, 5);
  return COLD_BYTES / us / 1e3;
}

function randomTernary(n: number, k: number, seed: number): Tensor<"i8"> {
  const bits = new Uint32Array(n * k);
  new Generator(seed).nextUint32(bits);
  return wrap(Int8Array.from(bits, (b) => (b % 3) - 1), { shape: [n, k], dtype: "i8" });
}

function randomPacked(n: number, k: number, seed: number): PackedTernary {
  const w = randomTernary(n, k, seed);
  const p = packTernary(w, { scale: 0.01 });
  w.dispose();
  return p;
}

/** Collects the garbage of the set-up so no GC pause lands inside a timed loop. */
function settle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) for (let i = 0; i < 3; i++) gc();
}

export function run(): void {
  const threadsBefore = getNumThreads();
  const bw: Record<number, number> = { 1: readBandwidth(1), 2: readBandwidth(2) };
  printTable("read bandwidth (streamRead over 256 MiB)", [
    { threads: 1, "GB/s": bw[1] },
    { threads: 2, "GB/s": bw[2] },
  ]);
  const rows: Row[] = [];
  for (const [n, k] of SHAPES) {
    const weightBytes = n * (paddedCols(k) / 4);
    const hot = randomPacked(n, k, n + k);
    // Enough copies that the set cycled through is >= 256 MiB: every call streams from DRAM.
    const copies = Math.ceil(COLD_BYTES / weightBytes);
    // Copies of one matrix at different addresses: only their placement matters here.
    const codes = randomTernary(n, k, 1);
    const cold: PackedTernary[] = [];
    for (let c = 0; c < copies; c++) cold.push(packTernary(codes, { scale: 0.01 }));
    codes.dispose();
    settle();
    for (const m of [1, 128]) {
      const x = randn([m, k], { seed: m });
      for (const threads of [1, 2]) {
        setNumThreads(threads);
        for (const temp of ["hot", "cold"] as const) {
          if (m === 128 && temp === "cold") continue; // GEMM is compute-bound: weight traffic is amortised over 128 rows
          const ops = 2 * m * n * k;
          const iters = Math.max(3, Math.min(2000, Math.floor(3e9 / ops / (threads === 2 ? 2 : 1))));
          // Steady state of a decode loop: activation and output buffers are reused.
          const q = quantizeActivationsInt8(x);
          const y = ternaryMatmul(q, hot);
          const us = timeUs((i) => {
            quantizeActivationsInt8(x, { into: q });
            ternaryMatmul(q, temp === "hot" ? hot : cold[i % copies], { out: y });
          }, iters);
          q.dispose();
          y.dispose();
          const gops = ops / us / 1e3;
          const gbps = weightBytes / us / 1e3;
          const ref = BITNET_CPP_GOPS[`${n}x${k}`];
          rows.push({
            shape: `${n}x${k}`,
            M: m,
            threads,
            weights: temp,
            "median us": us,
            GOPS: gops,
            "weight GB/s": gbps,
            "of read BW": gbps / bw[threads],
            "vs bitnet.cpp 1t": m === 1 && temp === "hot" ? gops / ref[1] : "",
          });
        }
      }
      x.dispose();
    }
    hot.dispose();
    cold.forEach((p) => p.dispose());
  }
  printTable("ternary matmul (activation quantization included, buffers reused)", rows);

  // Profiler off: the public wrapper (with its hook check) against the raw addon call.
  setNumThreads(1);
  const [n, k] = SHAPES[0];
  const p = randomPacked(n, k, 7);
  const x = randn([1, k], { seed: 3 });
  const q = quantizeActivationsInt8(x);
  const out = new Float32Array(n);
  const kp = paddedCols(k);
  const packed = p.data.data();
  const rawUs = timeUs(() => addon().ternaryMatmul(q.padded.data(), 1, k, q.scales.data(), q.sums.data(), packed, n, p.scale.data(), out), 2000, 9);
  const hookUs = timeUs(() => runKernel("ternaryMatmul", 2 * n * k, 0, "", () => addon().ternaryMatmul(q.padded.data(), 1, k, q.scales.data(), q.sums.data(), packed, n, p.scale.data(), out)), 2000, 9);
  const apiUs = timeUs(() => ternaryMatmul(q, p).dispose(), 2000, 9);
  const overhead = [
    { call: "raw addon.ternaryMatmul", "median us": rawUs, "vs raw": 1 },
    { call: "same call through the profiler hook (off)", "median us": hookUs, "vs raw": hookUs / rawUs },
    { call: "public ternaryMatmul (allocates the output tensor)", "median us": apiUs, "vs raw": apiUs / rawUs },
  ];
  printTable(`profiler-off overhead, 2560x2560 GEMV, 1 thread (padded K ${kp})`, overhead);
  q.dispose();
  x.dispose();
  p.dispose();
  setNumThreads(threadsBefore);
  console.log(`results: ${writeResults("kernels", { readBandwidth: bw, matmul: rows, profilerOff: overhead })}`);
}

