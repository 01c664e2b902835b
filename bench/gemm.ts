// `npm run bench -- gemm`: our fp32 GEMM (C[M,N] = A[M,K] B[K,N]) at the shapes of
// ../shared/anchors/torch-qat.md, 1 and 2 threads, GFLOP/s (median of >= 0.5 s of calls), and
// the transposed layouts a linear layer's forward and backward use, and the bf16 variant
// (operands rounded to bfloat16, float32 accumulation) for the weight gradient. When Debian's python3 has
// numpy/torch (OpenBLAS), ../shared/anchors/torch_bench_gemm.py runs in the same run and the
// ratio to the better of the two is printed.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { addon } from "../src/backend/addon";
import { Generator, getNumThreads, setNumThreads } from "../src";
import { printTable, Row, writeResults } from "./report";

const SHAPES: [number, number, number][] = [
  [2048, 256, 256],
  [2048, 1024, 256],
  [2048, 256, 1024],
  [512, 2560, 2560],
];
const PYTHON = "/usr/bin/python3";
const SCRIPT = path.join(__dirname, "..", "..", "..", "shared", "anchors", "torch_bench_gemm.py");

function gflops(m: number, n: number, k: number, transA: boolean, transB: boolean, bf16 = false): number {
  const g = new Generator(1);
  const a = new Float32Array(m * k);
  const b = new Float32Array(k * n);
  g.normal(a);
  g.normal(b);
  const c = new Float32Array(m * n);
  const gemm = bf16 ? addon().sgemmBf16 : addon().sgemm;
  const call = (): void => gemm(transA, transB, m, n, k, 1, a, transA ? m : k, b, transB ? k : n, 0, c, n);
  for (let i = 0; i < 3; i++) call();
  const times: number[] = [];
  const end = performance.now() + 500;
  while (times.length < 5 || performance.now() < end) {
    const t0 = process.hrtime.bigint();
    call();
    times.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  times.sort((x, y) => x - y);
  return (2 * m * n * k) / times[times.length >> 1] / 1e9;
}

function reference(threads: number): Map<string, { numpy: number; torch: number }> | string {
  if (!existsSync(PYTHON) || !existsSync(SCRIPT)) return `${existsSync(PYTHON) ? SCRIPT : PYTHON} not found`;
  const r = spawnSync(PYTHON, [SCRIPT, String(threads)], { encoding: "utf8" });
  if (r.status !== 0) return `torch_bench_gemm.py failed: ${r.stderr.trim().split("\n").pop()}`;
  const out = new Map<string, { numpy: number; torch: number }>();
  for (const line of r.stdout.trim().split("\n")) {
    const j = JSON.parse(line) as { M: number; N: number; K: number; numpy_gflops: number; torch_gflops: number };
    out.set(`${j.M}x${j.N}x${j.K}`, { numpy: j.numpy_gflops, torch: j.torch_gflops });
  }
  return out;
}

export function run(): void {
  const before = getNumThreads();
  const rows: Row[] = [];
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      const ref = reference(threads);
      if (typeof ref === "string") console.log(`OpenBLAS reference skipped (${threads} threads): ${ref}`);
      for (const [m, n, k] of SHAPES) {
        const ours = gflops(m, n, k, false, false);
        const blas = typeof ref === "string" ? undefined : ref.get(`${m}x${n}x${k}`);
        const best = blas ? Math.max(blas.numpy, blas.torch) : undefined;
        rows.push({
          "M, N, K": `${m}, ${n}, ${k}`,
          threads,
          "ours GFLOP/s": ours,
          "A B^T (linear fwd)": gflops(m, n, k, false, true),
          "A^T B (weight grad)": gflops(m, n, k, true, false),
          "bf16 A^T B": gflops(m, n, k, true, false, true),
          "numpy GFLOP/s": blas ? blas.numpy : "",
          "torch GFLOP/s": blas ? blas.torch : "",
          "ours / best": best ? ours / best : "",
        });
      }
    }
  } finally {
    setNumThreads(before);
  }
  printTable("fp32 GEMM C = A B (row-major), median GFLOP/s", rows);
  console.log(`results: ${writeResults("gemm", { rows })}`);
}
