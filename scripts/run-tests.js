#!/usr/bin/env node
// Runs every compiled test file under dist/test with Node's built-in test runner.
// Usage: node scripts/run-tests.js [subdir-or-file-filter ...]
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const testRoot = path.join(root, "dist", "test");

function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return walk(p);
    return e.name.endsWith(".test.js") ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const files = walk(testRoot)
  .sort()
  .filter((f) => filters.length === 0 || filters.some((x) => path.relative(testRoot, f).includes(x)));
if (files.length === 0) {
  console.error(`no test files found under ${testRoot}${filters.length ? ` matching ${filters.join(", ")}` : ""}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--expose-gc", "--test", "--test-reporter=spec", ...files], {
  stdio: "inherit",
  cwd: root,
});
process.exit(result.status === null ? 1 : result.status);
