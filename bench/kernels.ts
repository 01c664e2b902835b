// `npm run bench -- kernels [--isa scalar,avx2,avx512 | all]`: ternary GEMV/GEMM per ISA against
// that ISA's int8 dot roofline (its own dot instructions, operands in registers, measured in the
// same run), the machine's read bandwidth and the bitnet.cpp figures in
// ../shared/anchors/bitnet-cpp.md. GOPS = 2*M*N*K per second with the activation quantization
// included; GB/s counts packed weight bytes. One table per ISA.
import { addon } from "../src/backend/addon";
import * as native from "../src/backend/kernels";
import { PackedTernary, Tensor, backendInfo, getNumThreads, measureInt8DotPeak, packTernary, quantizeActivationsInt8, randn, setIsa, setNumThreads, ternaryMatmul, wrap, Generator, Isa } from "../src";
import { paddedCols } from "../src/quant";
import { randomFillSync } from "node:crypto";
import { isasFromOptions, median, printTable, Row, writeResults } from "./report";

const SHAPES: [number, number][] = [
  [2560, 2560],
  [6912, 2560],
  [2560, 6912],
];
// bitnet.cpp v1.0 I2_S, 1 thread, cache-hot, activation quantization included (anchors file).
const BITNET_CPP_GOPS: Record<string, [number, number]> = { "2560x2560": [111, 138], "6912x2560": [136, 145], "2560x6912": [163, 171] };
const COLD_BYTES = 256 << 20;


/**
 * Median microseconds per call of fn over `reps` timed batches of `iters` calls, after a warm-up
 * of at least 100 ms (caches, JIT, the worker threads' spin state).
 */
function timeUs(fn: (i: number) => void, iters: number, reps = 11): number {
  let k = 0;
  const warmEnd = process.hrtime.bigint() + 100_000_000n;
  for (let i = 0; i < 3 || process.hrtime.bigint() < warmEnd; i++) fn(k++);
  const out: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) fn(k++);
    out.push(Number(process.hrtime.bigint() - t0) / 1e3 / iters);
  }
  return median(out);
}

// Every buffer streamed from DRAM here holds distinct random bytes, allocated like the weights
// (native storage): the hypervisor may merge identical pages (KSM), and reads of pages that
// share physical memory hit the cache. Identical weight copies once gave "cold" GEMVs 1.3x the
// measured DRAM bandwidth.
function streamBuffer(): Tensor<"u8"> {
  const t = Tensor.empty([COLD_BYTES], "u8");
  randomFillSync(t.data());
  return t;
}

/** Read bandwidth in GB/s, streaming `buf` with `threads` threads. */
function readBandwidth(buf: Tensor<"u8">, threads: number): number {
  setNumThreads(threads);
  const us = timeUs(() => addon().streamRead(buf.data()), 3, 5);
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

/**
 * Collects the garbage of the set-up so no GC pause lands inside a timed loop, then idles for
 * 300 ms: V8's background sweeper and the kernel's page daemons otherwise keep the second core
 * busy for a while after large allocations, and 2-thread runs pay for it.
 */
function settle(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) for (let i = 0; i < 3; i++) gc();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
}

/**
 * Cold GEMV against the read bandwidth measured beside it: passes over every weight copy (each
 * call reads a different one) alternate with stream reads of the 256 MiB buffer, A B A B, and
 * each pass is compared with the read next to it (the shared host's bandwidth drifts by a
 * third from minute to minute). Median microseconds per call, median read GB/s, median ratio.
 */
function timeColdPaired(x: Tensor<"f32">, cold: PackedTernary[], stream: Tensor<"u8">, threads: number, bytesPerCall: number): { us: number; readGBs: number; ratio: number } {
  setNumThreads(threads);
  const q = quantizeActivationsInt8(x);
  const y = ternaryMatmul(q, cold[0]);
  const view = stream.data();
  const pass = (): number => {
    const t0 = process.hrtime.bigint();
    for (const w of cold) {
      quantizeActivationsInt8(x, { into: q });
      ternaryMatmul(q, w, { out: y });
    }
    return Number(process.hrtime.bigint() - t0) / 1e3 / cold.length;
  };
  const read = (): number => {
    const t0 = process.hrtime.bigint();
    addon().streamRead(view);
    return COLD_BYTES / (Number(process.hrtime.bigint() - t0) / 1e3) / 1e3;
  };
  try {
    pass();
    read();
    const us: number[] = [], bws: number[] = [], ratios: number[] = [];
    for (let r = 0; r < 9; r++) {
      const bw = read();
      const u = pass();
      us.push(u);
      bws.push(bw);
      ratios.push(bytesPerCall / u / 1e3 / bw);
    }
    return { us: median(us), readGBs: median(bws), ratio: median(ratios) };
  } finally {
    q.dispose();
    y.dispose();
  }
}

/** Median microseconds of one quantize + matmul step (the steady state of a decode loop). */
function timeMatmul(x: Tensor<"f32">, weights: (i: number) => PackedTernary, ops: number, threads: number): number {
  setNumThreads(threads);
  const iters = Math.max(3, Math.min(2000, Math.floor(3e9 / ops / threads)));
  const q = quantizeActivationsInt8(x);
  const y = ternaryMatmul(q, weights(0));
  try {
    return timeUs((i) => {
      quantizeActivationsInt8(x, { into: q });
      ternaryMatmul(q, weights(i), { out: y });
    }, iters);
  } finally {
    q.dispose();
    y.dispose();
  }
}

/** The int8 dot roofline of the active ISA at 1 and 2 threads, GOPS. */
function int8Peak(): Record<number, number> {
  const out: Record<number, number> = {};
  for (const threads of [1, 2]) {
    setNumThreads(threads);
    out[threads] = measureInt8DotPeak({ milliseconds: 100 });
  }
  return out;
}

/** The rows of one ISA's table, and its roofline. */
function runIsa(isa: string, stream: Tensor<"u8">): { rows: Row[]; peak: Record<number, number>; readBandwidth: Record<number, number> } {
  setIsa(isa as Isa);
  const rows: Row[] = [];
  const peak = int8Peak();
  const row = (n: number, k: number, m: number, threads: number, temp: "hot" | "cold", us: number, bwNow: number | undefined, ratio?: number): void => {
    const ops = 2 * m * n * k;
    const gops = ops / us / 1e3;
    const gbps = (n * (paddedCols(k) / 4)) / us / 1e3;
    rows.push({
      shape: `${n}x${k}`,
      M: m,
      threads,
      weights: temp,
      "median us": us,
      GOPS: gops,
      "of int8 peak": temp === "hot" ? gops / peak[threads] : "",
      "weight GB/s": gbps,
      "read BW now": bwNow ?? "",
      "of read BW": ratio ?? "",
      "vs bitnet.cpp 1t": m === 1 && temp === "hot" ? gops / BITNET_CPP_GOPS[`${n}x${k}`][1] : "",
    });
  };

  // Cache-hot runs first, before the 512 MiB of cold buffers exist: right after big
  // allocations the kernel's page daemons (khugepaged, DAMON) take CPU time from the second
  // thread for a while.
  for (const [n, k] of SHAPES) {
    const hot = randomPacked(n, k, n + k);
    settle();
    // V8 compiles and sweeps on background threads during the first second of the process.
    if (n === SHAPES[0][0] && k === SHAPES[0][1]) timeMatmul(randn([1, k], { seed: 9 }), () => hot, 2 * n * k, 2);
    for (const m of [1, 128]) {
      const x = randn([m, k], { seed: m });
      for (const threads of [1, 2]) row(n, k, m, threads, "hot", timeMatmul(x, () => hot, 2 * m * n * k, threads), undefined);
      x.dispose();
    }
    hot.dispose();
  }

  // Cold: every call reads a different copy of the weights from a set of >= 256 MiB. GEMM is
  // compute-bound (weight traffic is amortised over 128 rows), so only GEMV is run cold.
  const bw: Record<number, number> = { 1: readBandwidth(stream, 1), 2: readBandwidth(stream, 2) };
  for (const [n, k] of SHAPES) {
    const copies = Math.ceil(COLD_BYTES / (n * (paddedCols(k) / 4)));
    // Distinct random bytes in every copy (see streamBuffer); the results are not looked at.
    const codes = randomTernary(n, k, 1);
    const cold: PackedTernary[] = [];
    for (let c = 0; c < copies; c++) {
      const p = packTernary(codes, { scale: 0.01 });
      randomFillSync(p.data.data());
      cold.push(p);
    }
    codes.dispose();
    settle();
    const x = randn([1, k], { seed: 1 });
    for (const threads of [1, 2]) {
      const c = timeColdPaired(x, cold, stream, threads, n * (paddedCols(k) / 4));
      row(n, k, 1, threads, "cold", c.us, c.readGBs, c.ratio);
    }
    x.dispose();
    cold.forEach((p) => p.dispose());
  }
  const order = (r: Row): string => `${r.M === 1 ? 0 : 1} ${r.threads} ${r.weights === "hot" ? 0 : 1}`;
  rows.sort((a, b) => SHAPES.findIndex(([n, k]) => `${n}x${k}` === a.shape) - SHAPES.findIndex(([n, k]) => `${n}x${k}` === b.shape) || order(a).localeCompare(order(b)));
  return { rows, peak, readBandwidth: bw };
}

export function run(opts: Record<string, string> = {}): void {
  const threadsBefore = getNumThreads();
  const isas = isasFromOptions(opts);
  const info = backendInfo();
  const stream = streamBuffer();
  const perIsa: Record<string, ReturnType<typeof runIsa>> = {};
  try {
    for (const isa of isas) {
      const r = runIsa(isa, stream);
      perIsa[isa] = r;
      printTable(
        `ternary matmul, ${isa} kernels on ${info.cpu.model} (activation quantization included, buffers reused); ` +
          `int8 dot roofline ${r.peak[1].toFixed(0)} GOPS at 1 thread, ${r.peak[2].toFixed(0)} at 2; read bandwidth ${r.readBandwidth[1].toFixed(1)} / ${r.readBandwidth[2].toFixed(1)} GB/s`,
        r.rows,
      );
    }
  } finally {
    stream.dispose();
    setIsa("auto");
  }

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
  const hookUs = timeUs(() => native.ternaryMatmul(q.padded.data(), 1, k, q.scales.data(), q.sums.data(), packed, n, p.scale.data(), out), 2000, 9);
  const apiUs = timeUs(() => ternaryMatmul(q, p).dispose(), 2000, 9);
  const overhead = [
    { call: "raw addon.ternaryMatmul", "median us": rawUs, "vs raw": 1 },
    { call: "same call through the gateway (src/backend/kernels, profiler off)", "median us": hookUs, "vs raw": hookUs / rawUs },
    { call: "public ternaryMatmul (allocates the output tensor)", "median us": apiUs, "vs raw": apiUs / rawUs },
  ];
  printTable(`profiler-off overhead, 2560x2560 GEMV, 1 thread (padded K ${kp})`, overhead);
  q.dispose();
  x.dispose();
  p.dispose();
  setNumThreads(threadsBefore);
  console.log(`results: ${writeResults("kernels", { perIsa, profilerOff: overhead })}`);
}

