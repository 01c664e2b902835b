#!/usr/bin/env node
// npm run test:package: bitnet-lab installs and runs without a compiler, as sharp does. Packs
// the main package and the linux-x64 prebuilt addon (scripts/pack-prebuilt.js, the addon this
// checkout built), installs both into an empty folder with a PATH that holds no C/C++ compiler,
// CMake, make or ninja (and checks that it does not), then runs `npx bitnet-lab info` and a
// ternary product there, and checks that the prebuilt addon is what was loaded. Dependencies
// come from the npm registry (from npm's cache after `npm ci`). Linux x64 only: the platform
// whose prebuilt package this machine can build and run. Then the same for the linux-arm64
// package cross-built by `npm run test:arm64` (native/build-arm64): installed for arm64
// (npm install --cpu=arm64 --force: npm refuses a foreign platform package otherwise) and loaded by Node.js for arm64 under qemu-aarch64.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const addonFile = path.join(root, "native", "build", "Release", "bitnet_lab.node");
const arm64Addon = path.join(root, "native", "build-arm64", "Release", "bitnet_lab.node");
const arm64Node = path.join(root, "native", "build-arm64", "node", "package", "bin", "node");

function fail(message) {
  console.error(`test:package: FAILED: ${message}`);
  process.exit(1);
}

if (process.platform !== "linux" || process.arch !== "x64") {
  if (process.env.CI) fail(`runs on linux-x64 CI machines, this is ${process.platform}-${process.arch}`);
  console.log(`test:package: SKIPPED on ${process.platform}-${process.arch} (it packs the linux-x64 prebuilt addon)`);
  process.exit(0);
}
if (!fs.existsSync(addonFile)) fail(`${addonFile} not found: run npm ci first`);

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-lab-package-"));
(function main() {
try {
  // 1. The tarballs.
  const packages = path.join(tmp, "packages");
  const pack = spawnSync(process.execPath, [path.join(__dirname, "pack-prebuilt.js"), "--out", packages, "--addon", `linux-x64-gnu=${addonFile}`, "--main"], {
    cwd: root,
    encoding: "utf8",
  });
  if (pack.status !== 0) fail(`pack-prebuilt: ${pack.stderr}`);
  const [prebuilt, mainPackage] = pack.stdout.trim().split("\n");

  // 2. A PATH without build tools: links to every other program of the current PATH.
  const bin = path.join(tmp, "bin");
  fs.mkdirSync(bin);
  const buildTool = /^(cc|c\+\+|cpp|gcc|g\+\+|clang|clang\+\+|cmake|make|gmake|ninja|ld)(-[\d.]+)?$|-(gcc|g\+\+|c\+\+|cc)(-[\d.]+)?$|^(gcc|g\+\+|clang)-\d/;
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    let entries = [];
    try {
      entries = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of entries) {
      if (buildTool.test(name) || fs.existsSync(path.join(bin, name))) continue;
      try {
        fs.symlinkSync(path.join(dir, name), path.join(bin, name));
      } catch {
        // a name that cannot be linked (a dangling entry): not needed
      }
    }
  }
  const env = { ...process.env, PATH: bin, CC: "", CXX: "" };
  delete env.BITNET_ADDON_PATH;
  const probe = spawnSync("/bin/sh", ["-c", "command -v cc || command -v c++ || command -v gcc || command -v g++ || command -v cmake || command -v make"], { env, encoding: "utf8" });
  if (probe.status === 0) fail(`the stripped PATH still finds a build tool: ${probe.stdout.trim()}`);

  // 3. Install into an empty folder.
  const app = path.join(tmp, "app");
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
  const t0 = Date.now();
  const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", mainPackage, prebuilt], { cwd: app, env, encoding: "utf8" });
  if (install.status !== 0) fail(`npm install without build tools failed:\n${install.stdout}\n${install.stderr}`);
  console.log(`test:package: installed ${path.basename(mainPackage)} and ${path.basename(prebuilt)} in ${((Date.now() - t0) / 1000).toFixed(0)} s with no compiler on PATH`);
  if (fs.existsSync(path.join(app, "node_modules", "bitnet-lab", "native", "build"))) fail("the install built the addon from source");

  // 4. It runs, on the prebuilt addon.
  const info = spawnSync("npx", ["--no-install", "bitnet-lab", "info"], { cwd: app, env, encoding: "utf8" });
  if (info.status !== 0) fail(`npx bitnet-lab info failed:\n${info.stdout}\n${info.stderr}`);
  process.stdout.write(info.stdout);
  const expected = path.join(app, "node_modules", "@bitnet-lab", "linux-x64-gnu", "bitnet_lab.node");
  if (!info.stdout.includes(`addon:     prebuilt, ${expected}`)) fail(`info does not report the prebuilt addon ${expected}`);
  if (!/ternary +\S+/.test(info.stdout)) fail("info lists no kernel families");
  const script = [
    "const b = require('bitnet-lab');",
    "const w = b.wrap(Int8Array.from({ length: 8 * 256 }, (_, i) => (i % 3) - 1), { shape: [8, 256], dtype: 'i8' });",
    "const x = b.fromArray([Array.from({ length: 256 }, (_, i) => (i % 7) - 3)]);",
    "const y = b.ternaryMatmul(b.quantizeActivationsInt8(x), b.packTernary(w, { scale: 1 }));",
    // x is already integer-valued with max |x| = 3: q = x * 127 / 3, y = dot(w, q) * 3 / 127.
    "let ok = true; for (let r = 0; r < 8; r++) { let d = 0; for (let c = 0; c < 256; c++) d += w.data()[r * 256 + c] * Math.round(x.data()[c] * 127 / 3); ok = ok && Math.abs(y.data()[r] - d * 3 / 127) < 1e-4; }",
    "console.log(JSON.stringify({ ok, source: b.backendInfo().addon.source }));",
  ].join("\n");
  const run = spawnSync(process.execPath, ["-e", script], { cwd: app, env, encoding: "utf8" });
  if (run.status !== 0) fail(`a ternary product in the installed package failed:\n${run.stderr}`);
  const result = JSON.parse(run.stdout.trim());
  if (!result.ok || result.source !== "prebuilt") fail(`installed package: ${run.stdout}`);
  console.log("test:package: ok (prebuilt addon loaded, ternary product matches its reference)");

  // 5. The cross-built linux-arm64 package, on an emulated arm64 Node.js.
  const haveQemu = spawnSync("/bin/sh", ["-c", "command -v qemu-aarch64"], { stdio: "ignore" }).status === 0;
  if (!fs.existsSync(arm64Addon) || !fs.existsSync(arm64Node) || !haveQemu) {
    const what = "the arm64 build (npm run test:arm64) or qemu-aarch64";
    if (process.env.CI) fail(`${what} is missing; .ci/run runs test:arm64 first`);
    console.log(`test:package: linux-arm64 package SKIPPED: ${what} not found`);
    return;
  }
  const packArm = spawnSync(process.execPath, [path.join(__dirname, "pack-prebuilt.js"), "--out", packages, "--addon", `linux-arm64-gnu=${arm64Addon}`], { cwd: root, encoding: "utf8" });
  if (packArm.status !== 0) fail(`pack-prebuilt (arm64): ${packArm.stderr}`);
  const armApp = path.join(tmp, "app-arm64");
  fs.mkdirSync(armApp);
  fs.writeFileSync(path.join(armApp, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true }));
  const armInstall = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--prefer-offline", "--force", "--cpu=arm64", "--os=linux", "--libc=glibc", mainPackage, packArm.stdout.trim()], { cwd: armApp, env, encoding: "utf8" });
  if (armInstall.status !== 0) fail(`npm install --cpu=arm64 failed (${armInstall.status}):\n${armInstall.stdout}\n${armInstall.stderr}`);
  const armRun = spawnSync("qemu-aarch64", [arm64Node, "-e", script], {
    cwd: armApp,
    env: { ...env, QEMU_LD_PREFIX: "/usr/aarch64-linux-gnu", QEMU_CPU: "max" },
    encoding: "utf8",
  });
  if (armRun.status !== 0) fail(`the arm64 package under qemu-aarch64 failed:\n${armRun.stderr}`);
  const armResult = JSON.parse(armRun.stdout.trim());
  if (!armResult.ok || armResult.source !== "prebuilt") fail(`installed arm64 package: ${armRun.stdout}`);
  console.log("test:package: ok (linux-arm64 prebuilt package installed for arm64, loaded and checked under qemu-aarch64)");
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
})();
