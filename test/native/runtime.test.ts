// Thread pool, ISA forcing (BITNET_ISA, setIsa), BITNET_NUM_THREADS, devices and backendInfo().
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnNode } from "../node-command";
import * as path from "node:path";
import * as fs from "node:fs";
import { addon } from "../../src/backend/addon";
import { backendInfo, getIsa, getNumThreads, resolveDevice, setIsa, setNumThreads } from "../../src";

const indexPath = path.resolve(__dirname, "..", "..", "src", "index.js");

function childInfo(env: Record<string, string>): { status: number | null; signal: string | null; stdout: string; stderr: string } {
  const r = spawnNode(
    ["-e", `const b=require(${JSON.stringify(indexPath)}); console.log(JSON.stringify({info:b.backendInfo(), threads:b.getNumThreads()}))`],
    { env: { ...process.env, ...env }, encoding: "utf8" },
  );
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

test("backendInfo reports CPU, ISA per family, threads, compiler and flags", () => {
  const info = backendInfo();
  assert.ok(info.cpu.model.length > 0);
  assert.ok(info.cpu.logicalCores >= 1);
  assert.ok(info.isa.supported.includes("scalar"));
  assert.ok(info.isa.supported.includes(info.isa.best));
  assert.equal(info.threads, getNumThreads());
  assert.match(info.compiler, /\d+\.\d+/);
  assert.match(info.flags.base, /-O3/);
  const names = info.families.map((f) => f.name).sort();
  // Every family folder of native/src/cpu (one with a dispatch.cc) registers itself, and nothing else does.
  const cpu = path.resolve(__dirname, "..", "..", "..", "native", "src", "cpu");
  const folders = fs.readdirSync(cpu, { withFileTypes: true }).filter((d) => d.isDirectory() && fs.existsSync(path.join(cpu, d.name, "dispatch.cc"))).map((d) => d.name).sort();
  assert.ok(folders.length >= 11 && folders.includes("ternary"), folders.join(", "));
  assert.deepEqual(names, folders);
  for (const f of info.families) {
    assert.ok(f.available.includes("scalar"), `${f.name} keeps its scalar reference`);
    assert.ok(f.available.includes(f.chosen));
  }
  // This checkout's own build, or the one BITNET_ADDON_PATH names (the sanitizer and arm64 runs).
  assert.equal(info.addon.source, process.env.BITNET_ADDON_PATH ? "forced" : "source");
  assert.ok(info.addon.file.endsWith("bitnet_lab.node"), info.addon.file);
  assert.equal(info.bf16Gemm, info.isa.active === "avx512" ? "native" : "fp32");
  if (info.cpu.arch === "x86_64" && info.cpu.features.includes("avx512vnni")) {
    assert.equal(info.isa.best, "avx512");
    assert.equal(info.families.find((f) => f.name === "convert")!.chosen, "avx512");
  }
});

test("setIsa caps every family's variant and 'auto' restores the best", () => {
  try {
    assert.equal(setIsa("scalar"), "scalar");
    assert.equal(getIsa(), "scalar");
    for (const f of backendInfo().families) assert.equal(f.chosen, "scalar");
  } finally {
    setIsa("auto");
  }
  assert.equal(getIsa(), backendInfo().isa.best);
});

test("BITNET_ISA forces a variant in a fresh process; an unsupported one is a clear load error", () => {
  for (const isa of backendInfo().isa.supported) {
    const r = childInfo({ BITNET_ISA: isa });
    assert.equal(r.status, 0, r.stderr);
    const { info } = JSON.parse(r.stdout);
    assert.equal(info.isa.active, isa);
    assert.equal(info.isa.forced, isa);
    // ternary has a variant for every ISA level; families without one run their best below it.
    assert.equal(info.families.find((f: { name: string }) => f.name === "ternary").chosen, isa);
  }
  const bogus = childInfo({ BITNET_ISA: "sse9" });
  assert.notEqual(bogus.status, 0);
  assert.equal(bogus.signal, null, "must fail with an exception, not a signal");
  assert.match(bogus.stderr, /RangeError: BITNET_ISA must be one of .*received 'sse9'/);
  const unsupported = ["avx2", "avxvnni", "avx512", "neon", "neon-dotprod", "neon-i8mm"].find((i) => !backendInfo().isa.supported.includes(i));
  if (unsupported) {
    const r = childInfo({ BITNET_ISA: unsupported });
    assert.notEqual(r.status, 0);
    assert.equal(r.signal, null);
    assert.match(r.stderr, new RegExp(`BITNET_ISA='${unsupported}' is not supported`));
  }
});

test("BITNET_NUM_THREADS sets the default thread count; default is the core count", () => {
  const r = childInfo({ BITNET_NUM_THREADS: "3" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).threads, 3);
  const env = { ...process.env };
  delete env.BITNET_NUM_THREADS;
  const d = spawnNode(["-e", `const b=require(${JSON.stringify(indexPath)}); console.log(b.getNumThreads(), b.backendInfo().cpu.logicalCores)`], { env, encoding: "utf8" });
  const [threads, cores] = d.stdout.trim().split(" ").map(Number);
  assert.equal(threads, cores);
});

test("setNumThreads resizes the persistent pool and strided copies are identical at every count", () => {
  const before = getNumThreads();
  // A permuted [64, 96, 80] copy: large enough to be split across threads.
  const shape = [64, 96, 80];
  const n = shape[0] * shape[1] * shape[2];
  const src = new Float32Array(n).map((_, i) => i * 0.5);
  const srcStrides = [1, 64, 64 * 96]; // a transposed view of a [80, 96, 64] array
  const reference = new Float32Array(n);
  let k = 0;
  for (let a = 0; a < shape[0]; a++) for (let b = 0; b < shape[1]; b++) for (let c = 0; c < shape[2]; c++) reference[k++] = src[a * srcStrides[0] + b * srcStrides[1] + c * srcStrides[2]];
  try {
    for (const t of [1, 2, 4, 1]) {
      setNumThreads(t);
      assert.equal(getNumThreads(), t);
      const dst = new Float32Array(n);
      addon().stridedCopy(src, 0, srcStrides, dst, 0, [96 * 80, 80, 1], shape);
      assert.deepEqual(dst, reference, `threads=${t}`);
    }
  } finally {
    setNumThreads(before);
  }
});

test("the pool survives many tiny jobs back to back (no lost wake-ups)", () => {
  const before = getNumThreads();
  try {
    setNumThreads(2);
    const src = new Float32Array(1 << 17).fill(1.5);
    const dst = new Uint16Array(src.length);
    for (let i = 0; i < 2000; i++) addon().convert(src, "f32", dst, "f16");
    assert.equal(dst[dst.length - 1], 0x3e00);
  } finally {
    setNumThreads(before);
  }
});

test("devices: cpu and auto resolve to cpu; metal gives a clear error when not built", () => {
  assert.equal(resolveDevice("cpu"), "cpu");
  assert.equal(resolveDevice("auto"), "cpu");
  if (!backendInfo().devices.metal) {
    assert.throws(() => resolveDevice("metal"), (e: Error) => e.constructor === Error && /^resolveDevice: device 'metal' is not available/.test(e.message));
  }
  assert.throws(() => resolveDevice("gpu" as "cpu"), (e: Error) => e.constructor === TypeError || e.constructor === RangeError ? /^resolveDevice: argument 'device' must be one of/.test(e.message) : false);
});
