// The layers of native/src: the binding reaches kernels only through the Backend interface (no
// cpu/ header, no cpu_backend()), one binding file per kernel family, and one name per op from the
// addon export to the TypeScript gateway.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { backendInfo } from "../../src";
import { addon } from "../../src/backend/addon";
import * as gateway from "../../src/backend/kernels";

const ROOT = path.resolve(__dirname, "..", "..", "..");
const BINDING = path.join(ROOT, "native", "src", "binding");
const NOT_KERNELS = new Set(["addon.cc", "args.cc", "args.h", "bindings.h", "guard.h", "mapped.cc", "runtime.cc", "storage.cc"]);

/** Binding files that include a cpu/ header or call cpu_backend(). */
export function layerViolations(files: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [name, text] of Object.entries(files)) {
    if (/#include\s+"cpu\//.test(text)) out.push(`${name}: includes a cpu/ header`);
    if (/\bcpu_backend\s*\(/.test(text)) out.push(`${name}: calls cpu_backend()`);
  }
  return out;
}

test("the binding includes no cpu/ header and never calls cpu_backend()", () => {
  const files: Record<string, string> = {};
  for (const f of fs.readdirSync(BINDING)) files[f] = fs.readFileSync(path.join(BINDING, f), "utf8");
  assert.ok(Object.keys(files).length >= 10);
  assert.deepEqual(layerViolations(files), []);
  assert.deepEqual(layerViolations({ "x.cc": '#include "cpu/ternary/ternary.h"\nvoid f() { cpu_backend().sgemm(); }' }), ["x.cc: includes a cpu/ header", "x.cc: calls cpu_backend()"]);
});

test("every kernel export has one family, one binding file named after it, and one gateway function of its name", () => {
  const info = backendInfo();
  const families = new Set(info.families.map((f) => f.name));
  const exported = addon() as unknown as Record<string, unknown>;
  const kernelFiles = fs.readdirSync(BINDING).filter((f) => !NOT_KERNELS.has(f));
  for (const k of info.kernels) {
    assert.ok(families.has(k.family), `${k.name}: family ${k.family} is a kernel family`);
    assert.equal(typeof exported[k.name], "function", `${k.name} is an addon export`);
    const file = `${k.family}.cc`;
    assert.ok(kernelFiles.includes(file), `${k.name} is bound in binding/${file}`);
    assert.match(fs.readFileSync(path.join(BINDING, file), "utf8"), new RegExp(`define_kernel\\(env, exports, "${k.name}",`));
  }
  for (const f of kernelFiles) assert.ok(families.has(f.replace(/\.cc$/, "")), `binding/${f} is named after a kernel family`);
  const gatewayFunctions = Object.entries(gateway).filter(([, v]) => typeof v === "function").map(([n]) => n).sort();
  assert.deepEqual(gatewayFunctions, info.kernels.map((k) => k.name).sort(), "the gateway has one function per kernel export, of the same name");
});
