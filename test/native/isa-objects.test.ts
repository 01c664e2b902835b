// Each ISA variant is its own object file compiled with its own flags. A function those files
// share by name (a plain inline helper, a template instantiation) is merged by the linker into
// one copy, which may be the AVX-512 one: the scalar variant would then fault on a CPU without
// AVX-512. So the ISA objects must not define any weak (mergeable) symbol.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

const root = path.join(__dirname, "..", "..", "..");
const objects = path.join(root, "native", "build", "CMakeFiles", "bitnet_lab.dir", "src", "cpu");

test("ISA variant objects define no weak symbols", () => {
  const files: string[] = [];
  for (const family of readdirSync(objects)) {
    const dir = path.join(objects, family);
    if (!statSync(dir).isDirectory()) continue;
    for (const f of readdirSync(dir)) if (/^(avx2|avxvnni|avx512|neon|neon_dotprod|neon_i8mm)\.cc\.o$/.test(f)) files.push(path.join(dir, f));
  }
  assert.ok(files.length >= 10, `expected the ISA objects of every family under ${objects}, found ${files.length}`);
  for (const f of files) {
    const nm = spawnSync("nm", ["-C", f], { encoding: "utf8" });
    assert.equal(nm.status, 0, `nm ${f}: ${nm.stderr}`);
    const weak = nm.stdout.split("\n").filter((l) => / [WV] /.test(l));
    assert.deepEqual(weak, [], `${path.relative(root, f)} defines weak symbols the linker could merge across ISAs`);
  }
});
