#!/usr/bin/env node
// Packs the prebuilt-addon packages and the main package that lists them.
//
//   node scripts/pack-prebuilt.js --out DIR [--addon KEY=FILE ...] [--main]
//
// KEY is a platform of src/backend/prebuilt.ts without its scope (linux-x64-gnu,
// linux-arm64-gnu, darwin-arm64) and FILE the bitnet_lab.node built for it (native/build here,
// native/build-arm64 cross-built by npm run test:arm64, the macOS workflow's build). Each gives
// DIR/bitnet-lab-KEY-<version>.tgz: package.json (name, os, cpu, libc) and the addon. --main
// gives DIR/bitnet-lab-<version>.tgz: `npm pack` of this package with every platform package
// added as an optional dependency of the same version (npm installs the one whose os/cpu/libc
// match), without the scripts that need the sources' build tools. Needs the compiled dist/.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));

function fail(message) {
  console.error(`pack-prebuilt: ${message}`);
  process.exit(1);
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8" });
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.stdout}`);
  return r.stdout;
}

/** npm pack of `dir` into `out`; returns the tarball's path. */
function npmPack(dir, out) {
  const packed = JSON.parse(run("npm", ["pack", "--json", "--pack-destination", out], dir));
  return path.join(out, packed[0].filename);
}

const args = process.argv.slice(2);
let out = null;
let main = false;
const addons = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--out") out = path.resolve(args[++i] ?? fail("--out needs a directory"));
  else if (args[i] === "--main") main = true;
  else if (args[i] === "--addon") {
    const spec = args[++i] ?? fail("--addon needs KEY=FILE");
    const eq = spec.indexOf("=");
    if (eq < 1) fail(`--addon takes KEY=FILE, received '${spec}'`);
    addons.push({ key: spec.slice(0, eq), file: path.resolve(spec.slice(eq + 1)) });
  } else fail(`unknown argument '${args[i]}' (usage: --out DIR [--addon KEY=FILE ...] [--main])`);
}
if (!out) fail("--out DIR is required");
const prebuiltModule = path.join(root, "dist", "src", "backend", "prebuilt.js");
if (!fs.existsSync(prebuiltModule)) fail(`${prebuiltModule} not found: compile the TypeScript first (npm run build:ts)`);
const { PREBUILT_PLATFORMS, PREBUILT_FILE } = require(prebuiltModule);
fs.mkdirSync(out, { recursive: true });
const stage = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-lab-pack-"));

try {
  for (const { key, file } of addons) {
    const platform = PREBUILT_PLATFORMS.find((p) => p.name === `@bitnet-lab/${key}`);
    if (!platform) fail(`unknown platform '${key}'; known: ${PREBUILT_PLATFORMS.map((p) => p.name.replace("@bitnet-lab/", "")).join(", ")}`);
    if (!fs.existsSync(file)) fail(`${file} not found`);
    const dir = path.join(stage, key);
    fs.mkdirSync(dir);
    const manifest = {
      name: platform.name,
      version: pkg.version,
      description: `The bitnet-lab native addon prebuilt for ${key}`,
      license: pkg.license,
      os: [platform.os],
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      main: PREBUILT_FILE,
      files: [PREBUILT_FILE, "LICENSE"],
    };
    fs.writeFileSync(path.join(dir, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    fs.copyFileSync(file, path.join(dir, PREBUILT_FILE));
    fs.copyFileSync(path.join(root, "LICENSE"), path.join(dir, "LICENSE"));
    console.log(npmPack(dir, out));
  }
  if (main) {
    const tarball = npmPack(root, stage);
    const dir = path.join(stage, "main");
    fs.mkdirSync(dir);
    run("tar", ["-xzf", tarball, "-C", dir]);
    const unpacked = path.join(dir, "package");
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, "package.json"), "utf8"));
    manifest.optionalDependencies = Object.fromEntries(PREBUILT_PLATFORMS.map((p) => [p.name, pkg.version]));
    // What remains runs from the installed package: the addon build (scripts/install.js) and
    // nothing that needs the TypeScript sources or the tests.
    manifest.scripts = { install: pkg.scripts.install };
    delete manifest.devDependencies;
    fs.writeFileSync(path.join(unpacked, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(npmPack(unpacked, out));
  }
} finally {
  fs.rmSync(stage, { recursive: true, force: true });
}
