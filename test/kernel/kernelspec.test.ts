// `bitnet-lab kernel install | list | uninstall`: the kernelspec lands where Jupyter looks
// (JUPYTER_DATA_DIR, --prefix, JUPYTER_PATH), holds a launcher Jupyter can run, and goes away.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { installKernelspec, kernelsDir, listKernelspecs, logoPng, searchPath, uninstallKernelspec, userDataDir } from "../../kernel/kernelspec";

const ROOT = path.join(__dirname, "..", "..", "..");
const bin = path.join(ROOT, "bin", "bitnet-lab.js");

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-kspec-"));
}

test("install into --prefix writes kernel.json (absolute node and launcher, {connection_file}) and two PNG logos; uninstall removes it", () => {
  const dir = tmp();
  try {
    const at = installKernelspec(ROOT, { kind: "prefix", prefix: dir });
    assert.equal(at, path.join(dir, "share", "jupyter", "kernels", "bitnet-lab"));
    const spec = JSON.parse(fs.readFileSync(path.join(at, "kernel.json"), "utf8"));
    assert.deepEqual(spec.argv, [process.execPath, "--single-threaded-gc", bin, "kernel", "run", "--connection-file", "{connection_file}"]);
    assert.equal(spec.language, "typescript");
    assert.equal(spec.interrupt_mode, "signal");
    for (const size of [32, 64]) {
      const png = fs.readFileSync(path.join(at, `logo-${size}x${size}.png`));
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      assert.equal(png.readUInt32BE(16), size, "IHDR width");
      assert.equal(png.readUInt32BE(20), size, "IHDR height");
    }
    const env = { JUPYTER_PATH: path.join(dir, "share", "jupyter"), JUPYTER_DATA_DIR: path.join(dir, "nowhere") };
    assert.ok(listKernelspecs(env).some((k) => k.name === "bitnet-lab" && k.ours && k.dir === at));
    assert.equal(uninstallKernelspec({ kind: "prefix", prefix: dir }), at);
    assert.equal(fs.existsSync(at), false);
    assert.equal(uninstallKernelspec({ kind: "prefix", prefix: dir }), null, "nothing left to remove");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("Jupyter's directories: JUPYTER_DATA_DIR, XDG_DATA_HOME, JUPYTER_PATH first, sys-prefix from the active environment", () => {
  assert.equal(userDataDir({ JUPYTER_DATA_DIR: "/x/data" }), "/x/data");
  if (process.platform === "linux") assert.equal(userDataDir({ XDG_DATA_HOME: "/x/xdg" }), "/x/xdg/jupyter");
  assert.equal(kernelsDir({ kind: "sys-prefix" }, { VIRTUAL_ENV: "/venv" }), "/venv/share/jupyter/kernels");
  assert.throws(() => kernelsDir({ kind: "sys-prefix" }, {}), /--sys-prefix: no Python environment is active \(neither VIRTUAL_ENV nor CONDA_PREFIX is set\)/);
  const search = searchPath({ JUPYTER_PATH: ["/a", "/b"].join(path.delimiter), JUPYTER_DATA_DIR: "/d" });
  assert.deepEqual(search.slice(0, 3), ["/a/kernels", "/b/kernels", "/d/kernels"]);
});

test("the CLI: kernel install (JUPYTER_DATA_DIR), kernel list, kernel uninstall, and bad subcommands", () => {
  const dir = tmp();
  try {
    const env = { ...process.env, JUPYTER_DATA_DIR: dir, JUPYTER_PATH: "" };
    const run = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8" });
    const inst = run("kernel", "install");
    assert.equal(inst.status, 0, inst.stderr);
    assert.match(inst.stdout, new RegExp(`installed the bitnet-lab kernelspec in ${path.join(dir, "kernels", "bitnet-lab").replace(/[/\\]/g, "\\$&")}`));
    const list = run("kernel", "list");
    assert.match(list.stdout, /^\* bitnet-lab +/m);
    assert.equal(run("kernel", "uninstall").status, 0);
    assert.equal(fs.existsSync(path.join(dir, "kernels", "bitnet-lab")), false);
    const bad = run("kernel", "explode");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bitnet-lab kernel: unknown subcommand 'explode'/);
    const noFile = run("kernel", "run");
    assert.equal(noFile.status, 2);
    assert.match(noFile.stderr, /--connection-file FILE is required/);
    const missing = run("kernel", "run", "--connection-file", path.join(dir, "missing.json"));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /missing\.json/);
    fs.writeFileSync(path.join(dir, "bad.json"), JSON.stringify({ ip: "127.0.0.1", transport: "tcp", shell_port: "x" }));
    const badFile = run("kernel", "run", "--connection-file", path.join(dir, "bad.json"));
    assert.equal(badFile.status, 1);
    assert.match(badFile.stderr, /bad\.json: shell_port must be an integer, received x/);
    const prefix = run("kernel", "install", "--prefix");
    assert.equal(prefix.status, 1);
    assert.match(prefix.stderr, /--prefix needs a directory/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the logo is a valid PNG of the requested size (decoded back)", () => {
  const png = logoPng(32);
  // IEND is the last chunk: 12 bytes, type at offset 4.
  assert.equal(png.subarray(png.length - 8, png.length - 4).toString("latin1"), "IEND");
});
