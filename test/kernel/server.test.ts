// `bitnet-lab run --server`: the same runner through a running Jupyter Server (Debian's
// jupyter-server, started here on 127.0.0.1 with a random token and our kernelspec on its
// JUPYTER_PATH), two notebooks at once with --parallel 2, one of them a shipped notebook; an error
// stops a notebook the same way as on the embedded kernel. CI installs python3-jupyter-server
// (.ci/run); elsewhere a machine without it skips this file and says so.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { installKernelspec } from "../../kernel/kernelspec";
import { readNotebook } from "../../kernel/runner/notebook";
import { PYTHON } from "../python";

const ROOT = path.join(__dirname, "..", "..", "..");
const bin = path.join(ROOT, "bin", "bitnet-lab.js");

function missing(): string | null {
  if (!fs.existsSync(PYTHON)) return `${PYTHON} not found`;
  return spawnSync(PYTHON, ["-c", "import jupyter_server"]).status === 0 ? null : "Debian's python3 lacks jupyter_server (apt install python3-jupyter-server)";
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const why = missing();
if (why !== null && process.env.CI) {
  test("jupyter-server is installed (CI)", () => assert.fail(`${why}: .ci/run must install it`));
} else if (why !== null) {
  console.log(`# SKIPPED the --server transport tests (not in CI): ${why}`);
} else {
  let dir: string;
  let server: ChildProcess;
  let url: string;
  const token = randomBytes(12).toString("hex");

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-server-"));
    installKernelspec(ROOT, { kind: "prefix", prefix: path.join(dir, "prefix") });
    // jupyter-server 1.23 leaves Nagle's algorithm on for kernel websockets: every message
    // waited ~40 ms for an ACK. The test server's config turns TCP_NODELAY on.
    fs.writeFileSync(
      path.join(dir, "nodelay.py"),
      "from jupyter_server.services.kernels.handlers import ZMQChannelsHandler\n_open = ZMQChannelsHandler.open\ndef _nodelay(self, *a, **k):\n    self.set_nodelay(True)\n    return _open(self, *a, **k)\nZMQChannelsHandler.open = _nodelay\n",
    );
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    const env = { ...process.env, JUPYTER_PATH: path.join(dir, "prefix", "share", "jupyter"), JUPYTER_DATA_DIR: path.join(dir, "data"), JUPYTER_RUNTIME_DIR: path.join(dir, "runtime"), JUPYTER_CONFIG_DIR: path.join(dir, "config") };
    server = spawn(PYTHON, ["-m", "jupyter_server", "--ServerApp.ip=127.0.0.1", `--ServerApp.port=${port}`, `--ServerApp.token=${token}`, "--ServerApp.open_browser=False", "--ServerApp.allow_root=True", `--ServerApp.root_dir=${dir}`, `--config=${path.join(dir, "nodelay.py")}`], { env, stdio: "ignore" });
    for (let i = 0; i < 100; i++) {
      try {
        const r = await fetch(`${url}/api/status`, { headers: { Authorization: `token ${token}` } });
        if (r.ok) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error("jupyter-server did not start");
  });

  after(() => {
    server?.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = (...args: string[]) => spawnSync(process.execPath, [bin, "run", ...args, "--server", url, "--token", token], { encoding: "utf8", timeout: 300_000 });

  test("--server with --parallel 2: a shipped notebook and a second one run at once on the server's kernels", () => {
    const nb2 = path.join(dir, "small.ipynb");
    fs.writeFileSync(nb2, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [
      { cell_type: "code", source: "let k = 1;", metadata: { tags: ["parameters"] }, outputs: [], execution_count: null },
      { cell_type: "code", source: "console.log('k is', k); k * 10", metadata: {}, outputs: [], execution_count: null },
    ] }));
    const out = path.join(dir, "out");
    const r = run(path.join(ROOT, "notebooks", "03-mnist-bitlinear.ipynb"), nb2, "-p", "epochs=1", "-p", "trainLimit=10", "-p", "k=4", "--parallel", "2", "--output-dir", out, "--json");
    assert.equal(r.status, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { status: string; notebooks: { status: string }[] };
    assert.deepEqual(summary.notebooks.map((n) => n.status), ["ok", "ok"]);
    const small = readNotebook(path.join(out, "small.ipynb")).cells.filter((c) => c.cell_type === "code");
    assert.deepEqual(small[2].outputs!.map((o) => o.output_type), ["stream", "execute_result"]);
    assert.deepEqual((small[2].outputs![1] as { data: Record<string, unknown> }).data["text/plain"], "40");
    const mnist = readNotebook(path.join(out, "03-mnist-bitlinear.ipynb"));
    assert.ok(mnist.cells.flatMap((c) => c.outputs ?? []).some((o) => o.output_type === "execute_result" && /^<svg/.test(String(o.data["image/svg+xml"] ?? ""))));
  });

  test("--server: a failing cell stops the notebook with exit 1 and its report", () => {
    const bad = path.join(dir, "bad.ipynb");
    fs.writeFileSync(bad, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [
      { cell_type: "code", source: "throw new RangeError('from the server')", metadata: {}, outputs: [], execution_count: null },
      { cell_type: "code", source: "1", metadata: {}, outputs: [], execution_count: null },
    ] }));
    const r = run(bad, "--output", path.join(dir, "bad.out.ipynb"));
    assert.equal(r.status, 1);
    assert.match(r.stderr, /cell 0 failed: RangeError: from the server/);
  });

  test("runner overhead per cell, embedded and through the server (measured, printed)", () => {
    const many = path.join(dir, "many.ipynb");
    // 150 trivial cells: the type checker's code warms up over the first few dozen.
    const cells = Array.from({ length: 150 }, (_, i) => ({ cell_type: "code", source: `${i}`, metadata: {}, outputs: [], execution_count: null }));
    fs.writeFileSync(many, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells }));
    const perCell = (args: string[]) => {
      const r = spawnSync(process.execPath, [bin, "run", many, "--output", path.join(dir, "many.out.ipynb"), "--json", ...args], { encoding: "utf8", timeout: 300_000 });
      assert.equal(r.status, 0, r.stderr);
      const cellsRun = (JSON.parse(r.stdout) as { notebooks: { cells: { seconds: number }[] }[] }).notebooks[0].cells;
      const ms = cellsRun.slice(50).map((c) => c.seconds * 1000).sort((a, b) => a - b);
      return ms[Math.floor(ms.length / 2)];
    };
    const embedded = perCell([]);
    const viaServer = perCell(["--server", url, "--token", token]);
    console.log(`# runner overhead per trivial cell (median of cells 50-150): embedded ${embedded.toFixed(2)} ms, --server ${viaServer.toFixed(2)} ms`);
    assert.ok(embedded > 0 && viaServer > 0);
  });
}
