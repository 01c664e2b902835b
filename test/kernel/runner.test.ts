// `bitnet-lab run` headless, through the CLI as CI runs it: parameters injected after the
// `parameters` cell with their types, outputs and counts recorded (update_display_data folded),
// valid nbformat 4.5 written, error stop with exit code and report, --allow-errors and the
// raises-exception / skip-execution tags, per-cell timeout, kernel death, --json, bad arguments.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { injectParameters, parameterLiteral, parseParameters, readNotebook } from "../../kernel/runner/notebook";
import { PYTHON } from "../python";

const bin = path.join(__dirname, "..", "..", "..", "bin", "bitnet-lab.js");
let dir: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-run-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

type Src = string | { src: string; tags: string[] };
function notebook(name: string, cells: Src[]): string {
  const file = path.join(dir, name);
  const nb = {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: { kernelspec: { name: "bitnet-lab", display_name: "bitnet-lab (TypeScript)", language: "typescript" } },
    cells: [
      { cell_type: "markdown", source: ["# A test notebook\n", "with a list source"], metadata: {} },
      ...cells.map((c) => ({ cell_type: "code", source: typeof c === "string" ? c : c.src, metadata: typeof c === "string" ? {} : { tags: c.tags }, outputs: [], execution_count: null })),
    ],
  };
  fs.writeFileSync(file, JSON.stringify(nb));
  return file;
}

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, "run", ...args], { encoding: "utf8", timeout: 180_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function outputsOf(file: string): { type: string; text: string }[][] {
  return readNotebook(file).cells.filter((c) => c.cell_type === "code").map((c) =>
    (c.outputs ?? []).map((o) => ({
      type: o.output_type,
      text: o.output_type === "stream" ? o.text : o.output_type === "error" ? `${o.ename}: ${o.evalue}` : String((o.data as Record<string, unknown>)["text/plain"]),
    })),
  );
}

function validNbformat(file: string): void {
  const probe = spawnSync(PYTHON, ["-c", "import nbformat"], { encoding: "utf8" });
  if (probe.status !== 0) {
    if (process.env.CI) assert.fail("Debian's python3-nbformat is needed to validate notebooks (.ci/run installs it)");
    console.log("# nbformat validation SKIPPED (not in CI): python3-nbformat missing");
    return;
  }
  const r = spawnSync(PYTHON, ["-c", "import sys, nbformat; nb = nbformat.read(sys.argv[1], as_version=4); nbformat.validate(nb, version=4, version_minor=5); print('valid', nb.nbformat_minor)", file], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^valid 5/);
}

test("parameter values keep their types; keys must be identifiers; the cell goes after the parameters cell", () => {
  assert.equal(parameterLiteral("5"), "5");
  assert.equal(parameterLiteral("-2.5e-3"), "-0.0025");
  assert.equal(parameterLiteral("true"), "true");
  assert.equal(parameterLiteral('{"a": [1, 2]}'), '{"a":[1,2]}');
  assert.equal(parameterLiteral("[1, 2"), '"[1, 2"');
  assert.equal(parameterLiteral("hello world"), '"hello world"');
  assert.throws(() => parseParameters(["a-b=1"]), /parameter name 'a-b' is not an identifier/);
  assert.throws(() => parseParameters(["novalue"]), /-p expects key=value, received 'novalue'/);
  const nb = { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [{ cell_type: "code" as const, source: "x", metadata: {} }, { cell_type: "code" as const, source: "let a = 1", metadata: { tags: ["parameters"] } }, { cell_type: "code" as const, source: "a", metadata: {} }] };
  injectParameters(nb, parseParameters(["a=2", "s=text"]));
  assert.equal(nb.cells[2].source, '// Parameters injected by bitnet-lab run\nlet a = 2;\nlet s = "text";');
  assert.deepEqual(nb.cells[2].metadata.tags, ["injected-parameters"]);
});

test("a notebook runs with injected parameters: outputs, counts, folded display updates, valid nbformat 4.5", () => {
  const input = notebook("params.ipynb", [
    { src: "let steps = 3;\nlet label = 'default';\nlet flags = { fast: false };", tags: ["parameters"] },
    "console.log(`steps=${steps} label=${label} fast=${flags.fast}`);\nsteps * 2",
    "import { ProgressBar, fromArray } from 'bitnet-lab';\nconst bar = new ProgressBar({ total: 4, minIntervalMs: 0 });\nfor (let i = 1; i <= 4; i++) bar.update(i);\nbar.close();\nfromArray([1, 2, 3]).shape",
    { src: "throw new Error('expected')", tags: ["raises-exception"] },
    { src: "throw new Error('never run')", tags: ["skip-execution"] },
    "steps + 1",
  ]);
  const out = path.join(dir, "params.out.ipynb");
  const r = run(input, "-p", "steps=7", "-p", "label=hello world", "-p", 'flags={"fast": true}', "--output", out);
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /\[3\/7\] cell 3: ok/);
  assert.match(r.stdout, /\[6\/7\] cell 6: skipped\n/);
  const outputs = outputsOf(out);
  assert.deepEqual(outputs[2], [{ type: "stream", text: "steps=7 label=hello world fast=true\n" }, { type: "execute_result", text: "14" }]);
  assert.equal(outputs[3].length, 2);
  assert.deepEqual(outputs[3][0].type, "display_data");
  assert.match(outputs[3][0].text, /100% 4\/4$/, "the progress bar's updates folded into its final state");
  assert.deepEqual(outputs[4], [{ type: "error", text: "Error: expected" }]);
  assert.deepEqual(outputs[5], [], "skip-execution");
  assert.deepEqual(outputs[6], [{ type: "execute_result", text: "8" }]);
  const nb = readNotebook(out);
  const counts = nb.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count);
  assert.deepEqual(counts, [1, 2, 3, 4, 5, null, 6]);
  assert.ok(nb.cells.every((c) => typeof c.id === "string" && c.id.length > 0));
  assert.equal((nb.metadata.bitnet_lab as { status: string }).status, "ok");
  validNbformat(out);
});

test("a failing cell stops the run: exit 1, the cell, ename, evalue and traceback reported, the output notebook shows where; --allow-errors runs on", () => {
  const input = notebook("fails.ipynb", ["let a = 1;", "function deep(): number { throw new TypeError('bad value ' + a); }\ndeep()", "a + 1"]);
  const out = path.join(dir, "fails.out.ipynb");
  const r = run(input, "--output", out);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /fails\.ipynb: cell 2 failed: TypeError: bad value 1/);
  assert.match(r.stderr, /deep/);
  const nb = readNotebook(out);
  assert.deepEqual(nb.cells[0].metadata.tags, ["bitnet-lab-error"]);
  assert.match(String(nb.cells[0].source), /cell 2 failed: TypeError: bad value 1/);
  assert.deepEqual(outputsOf(out)[2], [], "the cell after the failure did not run");
  validNbformat(out);

  const allowed = run(input, "--output", out, "--allow-errors");
  assert.equal(allowed.status, 0, allowed.stderr);
  assert.deepEqual(outputsOf(out)[2], [{ type: "execute_result", text: "2" }]);
});

test("per-cell timeout interrupts the cell and stops the run; a dying kernel is reported as such; --json summary", () => {
  const slow = notebook("slow.ipynb", ["let n = 0;\nwhile (true) { n++; }", "n"]);
  const t = run(slow, "--timeout", "1", "--output", path.join(dir, "slow.out.ipynb"), "--json");
  assert.equal(t.status, 1);
  const summary = JSON.parse(t.stdout) as { status: string; notebooks: { failure: { message: string; status: string } }[] };
  assert.equal(summary.status, "error");
  assert.equal(summary.notebooks[0].failure.status, "timeout");
  assert.match(summary.notebooks[0].failure.message, /cell 1 failed: the cell ran past --timeout 1 s/);
  assert.match(t.stderr, /\[1\/2\] cell 1: timeout/, "progress goes to stderr with --json");

  const dies = notebook("dies.ipynb", ["process.exit(3)", "1"]);
  const d = run(dies, "--output", path.join(dir, "dies.out.ipynb"));
  assert.equal(d.status, 1);
  assert.match(d.stderr, /cell 1 failed: the kernel died/);
  assert.deepEqual(outputsOf(path.join(dir, "dies.out.ipynb"))[0], [{ type: "error", text: "DeadKernelError: the kernel died while running this cell" }]);
});

test("bad arguments and files are clear errors with exit status 2 (usage) or 1 (the notebook)", () => {
  assert.match(run().stderr, /name at least one notebook/);
  assert.equal(run().status, 2);
  assert.match(run("x.ipynb", "-p", "1x=2").stderr, /parameter name '1x' is not an identifier/);
  assert.match(run("x.ipynb", "--timeout", "soon").stderr, /--timeout must be a number of seconds >= 0, received 'soon'/);
  assert.match(run("x.ipynb", "--server", "localhost:8888").stderr, /--server must be an http\(s\) URL, received 'localhost:8888'/);
  assert.match(run("x.ipynb", "--parallel", "0").stderr, /--parallel must be an integer >= 1, received '0'/);
  assert.match(run("a.ipynb", "b.ipynb", "--output", "o.ipynb").stderr, /--output names one file; with several notebooks use --output-dir/);
  const missing = run(path.join(dir, "missing.ipynb"));
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /missing\.ipynb: not a readable notebook/);
  const notNb = path.join(dir, "bad.ipynb");
  fs.writeFileSync(notNb, JSON.stringify({ nbformat: 3, cells: [] }));
  assert.match(run(notNb).stderr, /nbformat 3 is not supported \(expected 4\)/);
});
