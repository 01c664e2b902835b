// The public entry points (package.json "exports"): each one's runtime names against a committed
// snapshot (BITNET_UPDATE_SNAPSHOTS=1 rewrites it), TypeScript 5.0 (tslab's) resolving every
// subpath to its declarations, and the Jupyter kernel importing the library only through them.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const SNAPSHOT = path.join(ROOT, "test", "api", "exports.snapshot.json");
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
  name: string;
  exports: Record<string, string | { types: string; default: string }>;
  typesVersions: { "*": Record<string, string[]> };
  files: string[];
};
const entries = Object.keys(pkg.exports).filter((k) => k !== "./package.json");

test("each entry point exports exactly the names of its snapshot", () => {
  const own = createRequire(path.join(ROOT, "package.json"));
  const actual: Record<string, string[]> = {};
  for (const e of entries) actual[e] = Object.keys(own(e === "." ? pkg.name : `${pkg.name}/${e.slice(2)}`) as object).sort();
  if (process.env.BITNET_UPDATE_SNAPSHOTS === "1") fs.writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 1)}\n`);
  const expected = JSON.parse(fs.readFileSync(SNAPSHOT, "utf8")) as Record<string, string[]>;
  assert.deepEqual(Object.keys(actual), Object.keys(expected), "entry points");
  for (const e of entries) assert.deepEqual(actual[e], expected[e], `names exported by ${e} (BITNET_UPDATE_SNAPSHOTS=1 npm test rewrites the snapshot)`);
  assert.ok(!actual["."].includes("paddedCols") && !actual["."].includes("fsReason"), "internal helpers stay out of the root");
});

test("TypeScript 5.0 (the notebook checker) resolves every entry point to its declarations", () => {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const ts = require("@tslab/typescript-for-tslab") as typeof import("typescript");
  assert.match(ts.version, /^5\.0\./);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-exports-"));
  try {
    fs.mkdirSync(path.join(dir, "node_modules"));
    fs.symlinkSync(ROOT, path.join(dir, "node_modules", pkg.name), "dir");
    const from = path.join(dir, "cell.ts");
    for (const e of entries) {
      const name = e === "." ? pkg.name : `${pkg.name}/${e.slice(2)}`;
      const r = ts.resolveModuleName(name, from, { moduleResolution: ts.ModuleResolutionKind.NodeJs }, ts.sys);
      const target = pkg.exports[e] as { types: string };
      assert.ok(r.resolvedModule, `${name} resolves`);
      assert.equal(fs.realpathSync(r.resolvedModule!.resolvedFileName), path.join(ROOT, target.types), `${name} resolves to ${target.types}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the package ships no tests or benchmarks, and the kernel imports the library only through its entry points", () => {
  assert.ok(!pkg.files.some((f) => f.startsWith("dist/test") || f.startsWith("dist/bench") || f === "dist"), `files: ${pkg.files.join(", ")}`);
  const entryDirs = new Set(entries.map((e) => (e === "." ? "src" : `src/${e.slice(2)}`)));
  const walk = (dir: string): string[] =>
    fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(`${dir}/${d.name}`) : d.name.endsWith(".ts") ? [`${dir}/${d.name}`] : []));
  const deep: string[] = [];
  for (const file of walk("kernel")) {
    for (const m of fs.readFileSync(path.join(ROOT, file), "utf8").matchAll(/(?:from\s+|import\(\s*|require\(\s*)["'](\.[^"']+)["']/g)) {
      const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), m[1]));
      if (target.startsWith("src") && !entryDirs.has(target)) deep.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(deep, []);
  // tslab's TypeScript build and its private converter are reached through one adapter.
  const tslabUsers = walk("kernel").filter((f) => f !== "kernel/jupyter/tslab.ts" && /require\(\s*["']@?tslab\b|^import\s+(?!type\b)[^;]*from\s+["']@?tslab\b/m.test(fs.readFileSync(path.join(ROOT, f), "utf8")));
  assert.deepEqual(tslabUsers, []);
});

test("src/viz takes plain data: none of its files imports nn or quant", () => {
  const dir = path.join(ROOT, "src", "viz");
  const offenders = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .filter((f) => /from\s+["']\.\.\/(nn|quant)\b/.test(fs.readFileSync(path.join(dir, f), "utf8")));
  assert.deepEqual(offenders, []);
});
