#!/usr/bin/env node
// Rebuilds the addon with -fsanitize=address,undefined into native/build-asan and runs the
// native-facing tests against it. Node itself is not instrumented, so libasan is preloaded;
// leak detection is off because Node intentionally leaks at exit, and any UB report aborts.
"use strict";
const { execFileSync, spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const buildDir = path.join(root, "native", "build-asan");
const cmakeJs = path.join(root, "node_modules", ".bin", "cmake-js");

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`test:asan: ${cmd} ${args.join(" ")} failed (${r.signal ?? `exit ${r.status}`})`);
    process.exit(1);
  }
}

run(cmakeJs, ["compile", "-d", "native", "-O", buildDir, "--CDBITNET_SANITIZE=ON"]);
run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "tsconfig.json"]);

const compiler = process.env.CXX || "g++";
const libasan = execFileSync(compiler, ["-print-file-name=libasan.so"], { encoding: "utf8" }).trim();
if (!path.isAbsolute(libasan) || !fs.existsSync(libasan)) {
  console.error(`test:asan: cannot find libasan.so via ${compiler} -print-file-name (got '${libasan}')`);
  process.exit(1);
}
const addonFile = path.join(buildDir, "Release", "bitnet_lab.node");
const env = {
  ...process.env,
  BITNET_ADDON_PATH: addonFile,
  LD_PRELOAD: libasan,
  ASAN_OPTIONS: "detect_leaks=0:abort_on_error=1:allow_user_segv_handler=1",
  UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
};
// The sanitized addon must really be the one under test.
const probe = spawnSync(process.execPath, ["-p", "require('./dist/src').backendInfo().sanitized"], { cwd: root, env, encoding: "utf8" });
if (probe.stdout.trim() !== "true") {
  console.error(`test:asan: the sanitized addon did not load:\n${probe.stdout}${probe.stderr}`);
  process.exit(1);
}
run(process.execPath, [path.join(root, "scripts", "run-tests.js"), "native/", "tensor/", "arrow/", "quant/", "autograd/", "ops/", "nn/", "train/", "io/", "infer/"], { env });
