// The progress bar in its three homes: a notebook (one display id, updated in place, throttled),
// a terminal (one rewritten line) and nowhere (pipes, CI logs); and its bad options.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MimeBundle, ProgressBar } from "../../src";
import { setDisplaySink } from "../../src/viz";

test("notebook: the first draw displays, later draws update the same display id; throttled; the final state always drawn", async () => {
  const seen: { bundle: MimeBundle; displayId?: string; update?: boolean }[] = [];
  setDisplaySink((bundle, opts) => seen.push({ bundle, displayId: opts.displayId, update: opts.update }));
  try {
    const bar = new ProgressBar({ total: 10, label: "training", minIntervalMs: 0 });
    for (let i = 1; i <= 10; i++) bar.update(i, { loss: 2.5 - i / 10, remainingSeconds: 10 - i });
    bar.close();
    await new Promise((r) => setImmediate(r));
    assert.equal(seen.length, 11, "10 updates and the close");
    assert.ok(seen.every((s) => s.displayId === bar.id));
    assert.ok(!seen[0].update, "the first draw is a new output");
    assert.ok(seen.slice(1).every((s) => s.update === true));
    assert.match(seen[10].bundle["text/plain"] as string, /^training █{24} 100% 10\/10  loss 1\.500$/);
    assert.match(seen[10].bundle["text/html"] as string, /<progress value="10" max="10"/);
    assert.match(seen[3].bundle["text/plain"] as string, /^training █{10}░{14}  40% 4\/10  loss 2\.100 · 6\.0 s left$/);

    seen.length = 0;
    const slow = new ProgressBar({ total: 1000, minIntervalMs: 60_000 });
    for (let i = 1; i <= 999; i++) slow.update(i);
    slow.close();
    await new Promise((r) => setImmediate(r));
    assert.equal(seen.length, 2, "throttled: the first draw and the final one");
  } finally {
    setDisplaySink(null);
  }
});

test("terminal: one line rewritten with a carriage return, a newline at the end; off: nothing", () => {
  const writes: string[] = [];
  const original = process.stdout.write;
  process.stdout.write = ((chunk: string) => (writes.push(String(chunk)), true)) as typeof process.stdout.write;
  try {
    const bar = new ProgressBar({ total: 4, minIntervalMs: 0, mode: "terminal" });
    bar.update(2);
    bar.close();
    const quiet = new ProgressBar({ total: 4, minIntervalMs: 0, mode: "off" });
    quiet.update(3);
    quiet.close();
  } finally {
    process.stdout.write = original;
  }
  assert.deepEqual(writes, [`\r\x1b[2K${"█".repeat(12)}${"░".repeat(12)}  50% 2/4`, `\r\x1b[2K${"█".repeat(12)}${"░".repeat(12)}  50% 2/4`, "\n"]);
});

test("bad options are named errors", () => {
  assert.throws(() => new ProgressBar({ total: 0 }), /^RangeError: ProgressBar: total must be a finite number > 0, received 0$/);
  assert.throws(() => new ProgressBar({ total: NaN }), /ProgressBar: total must be a finite number > 0, received NaN/);
  assert.throws(() => new ProgressBar({ total: 3, mode: "loud" as "off" }), /ProgressBar: mode must be 'auto', 'notebook', 'terminal' or 'off', received 'loud'/);
  assert.throws(() => new ProgressBar(null as unknown as { total: number }), /ProgressBar: options must be an object like \{ total \}, received null/);
  assert.throws(() => new ProgressBar({ total: 3 }).update(NaN), /ProgressBar.update: done must be a number, received NaN/);
});
