// The command line as a newcomer runs it: `bitnet-lab info` and the README's main job,
// `bitnet-lab demo` (a short QAT run here), in a child process.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";

const bin = path.join(__dirname, "..", "..", "..", "bin", "bitnet-lab.js");

function run(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 120_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("bitnet-lab info lists every kernel family", () => {
  const r = run("info");
  assert.equal(r.status, 0, r.stderr);
  for (const family of ["attention", "elementwise", "gemm", "norm", "ternary", "quant"]) assert.match(r.stdout, new RegExp(`\\n    ${family} `));
  // The launcher restarts node with V8's GC on the main thread (kernel threads keep their cores).
  assert.match(r.stdout, /\n  v8 gc: +single-threaded\n/);
});

test("bitnet-lab passes its exit status through the restart", () => {
  const r = run("no-such-command");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^bitnet-lab: unknown command 'no-such-command'/);
});

test("bitnet-lab demo trains, evaluates, samples and profiles (a short run)", () => {
  const r = run("demo", "--steps", "12");
  assert.equal(r.status, 0, r.stderr);
  const losses = [...r.stdout.matchAll(/step +\d+ +loss (\d+\.\d+)/g)].map((m) => Number(m[1]));
  assert.ok(losses.length >= 2 && losses[losses.length - 1] < losses[0], `the loss falls: ${losses}`);
  const val = /validation loss: (\d+\.\d+) nats\/char over \d+ characters \(uniform: (\d+\.\d+)\)/.exec(r.stdout);
  assert.ok(val && Number(val[1]) < Number(val[2]), "validation loss below the uniform guess");
  assert.match(r.stdout, /sample: "The /);
  assert.match(r.stdout, /\nternaryMatmul +\w+ +\d+/);
  assert.match(r.stdout, /\nsgemm +\w+ +\d+/);
});

test("bitnet-lab rejects unknown commands and bad options", () => {
  assert.equal(run("bogus").status, 2);
  const r = run("demo", "--steps", "0");
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--steps must be a positive integer, received 0/);
});
