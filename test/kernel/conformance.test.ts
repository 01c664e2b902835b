// jupyter_kernel_test (Debian's python3-jupyter-kernel-test, run by Debian's /usr/bin/python3) on
// our kernel, installed into a temporary Jupyter path. CI installs the package (.ci/run); outside
// CI a machine without it skips this file and says so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { installKernelspec } from "../../kernel/kernelspec";
import { PYTHON } from "../python";

const ROOT = path.join(__dirname, "..", "..", "..");

function missing(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  const probe = spawnSync(PYTHON, ["-c", "import jupyter_kernel_test, jupyter_client"], { encoding: "utf8" });
  return probe.status === 0 ? null : "Debian's python3 lacks jupyter_kernel_test (apt install python3-jupyter-kernel-test python3-jupyter-client)";
}

const why = missing();
if (why !== null && process.env.CI) {
  test("jupyter_kernel_test is installed (CI)", () => assert.fail(`${why}: .ci/run must install it`));
} else if (why !== null) {
  console.log(`# SKIPPED jupyter_kernel_test conformance (not in CI): ${why}`);
} else {
  test("jupyter_kernel_test: every check the framework offers passes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-jkt-"));
    try {
      installKernelspec(ROOT, { kind: "prefix", prefix: dir });
      const env = { ...process.env, JUPYTER_PATH: path.join(dir, "share", "jupyter"), JUPYTER_DATA_DIR: path.join(dir, "data"), JUPYTER_RUNTIME_DIR: path.join(dir, "runtime") };
      const r = spawnSync(PYTHON, ["-m", "unittest", "-v", "kernel_test"], { cwd: path.join(ROOT, "test", "kernel"), env, encoding: "utf8", timeout: 300_000 });
      const out = `${r.stdout}\n${r.stderr}`;
      assert.equal(r.status, 0, out);
      const ran = /Ran (\d+) tests?/.exec(out);
      assert.ok(ran && Number(ran[1]) >= 12, out);
      const skipped = [...out.matchAll(/^\s*(test_\w+) .*\.\.\. skipped/gm)].map((m) => m[1]);
      assert.deepEqual(skipped, [], `no check may be skipped:\n${out}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
