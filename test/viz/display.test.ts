// The display protocol: bundles from the symbol method (sync and async), built-ins and the
// inspect fallback; display() to stdout without a sink and to an installed sink, with display
// ids and updates.
import { test } from "node:test";
import assert from "node:assert/strict";
import { tableFromArrays } from "apache-arrow";
import { MIME_BUNDLE, MimeBundle, clearOutput, display, fromArray, toMimeBundle } from "../../src";
import { DisplaySink, setDisplaySink } from "../../src/viz";

/** Runs `fn` and returns what it wrote to stdout as strings. */
async function captureStdout(fn: () => Promise<unknown>): Promise<string> {
  const original = process.stdout.write;
  let captured = "";
  // The test runner reports to its parent over stdout in binary chunks: only strings are ours.
  process.stdout.write = function (this: NodeJS.WriteStream, chunk: unknown, ...rest: unknown[]): boolean {
    if (typeof chunk === "string") {
      captured += chunk;
      return true;
    }
    return (original as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  } as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = original;
  }
  return captured;
}

/** Installs a sink recording its calls for the duration of `fn`. */
async function withSink(fn: (calls: Parameters<DisplaySink>[]) => Promise<void>): Promise<void> {
  const calls: Parameters<DisplaySink>[] = [];
  setDisplaySink((bundle, opts) => calls.push([bundle, opts]));
  try {
    await fn(calls);
  } finally {
    setDisplaySink(null);
  }
}

test("MIME_BUNDLE is the registered symbol jupyter.mimebundle", () => {
  assert.equal(MIME_BUNDLE, Symbol.for("jupyter.mimebundle"));
});

test("display without a sink prints the text/plain part to stdout", async () => {
  const custom = { [MIME_BUNDLE]: () => ({ "text/plain": "plain <text>", "text/html": "<b>rich</b>" }) };
  const out = await captureStdout(async () => {
    await display("hello");
    await display(custom);
    await display({ a: 1, b: [1, 2, 3] });
  });
  assert.equal(out, "hello\nplain <text>\n{ a: 1, b: [ 1, 2, 3 ] }\n");
});

test("display without a sink prints updates too", async () => {
  const out = await captureStdout(async () => {
    const h = await display("step 1");
    await h.update("step 2");
  });
  assert.equal(out, "step 1\nstep 2\n");
});

test("a sink receives the bundle with a display id; update() resends with update: true and the same id", async () => {
  await withSink(async (calls) => {
    const h = await display({ [MIME_BUNDLE]: () => ({ "text/plain": "v1", "text/html": "<i>v1</i>" }) }, { displayId: "progress" });
    assert.equal(h.id, "progress");
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0][0], { "text/plain": "v1", "text/html": "<i>v1</i>" });
    assert.deepEqual(calls[0][1], { displayId: "progress" });

    await h.update("v2");
    assert.equal(calls.length, 2);
    assert.deepEqual(calls[1][0], { "text/plain": "v2" });
    assert.deepEqual(calls[1][1], { displayId: "progress", update: true });

    await h.update("v3", { metadata: { "text/plain": { x: 1 } } });
    assert.deepEqual(calls[2][1], { displayId: "progress", update: true, metadata: { "text/plain": { x: 1 } } });
  });
});

test("display ids default to distinct UUIDs; metadata is passed through", async () => {
  await withSink(async (calls) => {
    const a = await display(1);
    const b = await display(2, { metadata: { "image/png": { width: 10 } } });
    assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(a.id, b.id);
    assert.equal(calls[0][1].displayId, a.id);
    assert.equal(calls[0][1].update, undefined);
    assert.deepEqual(calls[1][1], { displayId: b.id, metadata: { "image/png": { width: 10 } } });
  });
});

test("nothing reaches stdout while a sink is installed; removing it restores printing", async () => {
  let out = "";
  await withSink(async (calls) => {
    out = await captureStdout(async () => {
      await display("quiet");
    });
    assert.equal(calls.length, 1);
  });
  assert.equal(out, "");
  assert.equal(await captureStdout(async () => display("loud")), "loud\n");
});

test("toMimeBundle: a synchronous symbol method gives a bundle directly, an async one a Promise", async () => {
  const sync = { [MIME_BUNDLE]: (): MimeBundle => ({ "text/plain": "sync" }) };
  const r1 = toMimeBundle(sync);
  assert.ok(!(r1 instanceof Promise));
  assert.deepEqual(r1, { "text/plain": "sync" });

  class Later {
    async [MIME_BUNDLE](): Promise<MimeBundle> {
      await new Promise((r) => setTimeout(r, 5));
      return { "text/plain": "later", "application/json": { ok: true } };
    }
  }
  const r2 = toMimeBundle(new Later());
  assert.ok(r2 instanceof Promise);
  assert.deepEqual(await r2, { "text/plain": "later", "application/json": { ok: true } });
  await withSink(async (calls) => {
    await display(new Later());
    assert.deepEqual(calls[0][0], { "text/plain": "later", "application/json": { ok: true } });
  });
});

test("toMimeBundle: the symbol method wins over the built-ins and is called with its object", () => {
  const t = fromArray([1, 2]);
  try {
    const withMethod = Object.assign(t, {
      [MIME_BUNDLE](this: unknown) {
        return { "text/plain": this === t ? "own" : "wrong this" };
      },
    });
    assert.deepEqual(toMimeBundle(withMethod), { "text/plain": "own" });
  } finally {
    t.dispose();
  }
});

test("toMimeBundle: strings as is, other values through util.inspect (depth 2, 20 array items)", () => {
  assert.deepEqual(toMimeBundle("a <b> string"), { "text/plain": "a <b> string" });
  assert.deepEqual(toMimeBundle(42), { "text/plain": "42" });
  assert.deepEqual(toMimeBundle(undefined), { "text/plain": "undefined" });
  assert.deepEqual(toMimeBundle({ a: { b: { c: { d: 1 } } } }), { "text/plain": "{ a: { b: { c: [Object] } } }" });
  const long = (toMimeBundle(Array.from({ length: 30 }, (_, i) => i)) as MimeBundle)["text/plain"] as string;
  assert.match(long, /\.\.\. 10 more items/);
  assert.doesNotMatch(long, /\u001b\[/); // no ANSI colors
});

test("toMimeBundle: Tensor and Arrow Table get their built-in HTML", () => {
  const t = fromArray([[1, 2], [3, 4]]);
  try {
    const b = toMimeBundle(t) as MimeBundle;
    assert.equal(b["text/plain"], t.toString());
    assert.match(String(b["text/html"]), /shape \[2, 2\]/);
  } finally {
    t.dispose();
  }
  const table = tableFromArrays({ x: Int32Array.from([1, 2, 3]) });
  const tb = toMimeBundle(table) as MimeBundle;
  assert.match(String(tb["text/html"]), /<table class="bitnet-arrow-table">/);
  assert.match(String(tb["text/plain"]), /^Table: 3 rows × 1 column/);
});

test("a symbol method returning a non-object is a TypeError; one that throws propagates", async () => {
  assert.throws(() => toMimeBundle({ [MIME_BUNDLE]: () => "text" }), /^TypeError: toMimeBundle: the value's \[MIME_BUNDLE\]\(\) must return an object of MIME type -> data, received 'text'$/);
  await assert.rejects(toMimeBundle({ [MIME_BUNDLE]: async () => null }) as Promise<MimeBundle>, /must return an object .* received null/);
  await assert.rejects(display({ [MIME_BUNDLE]: () => { throw new Error("boom"); } }), /^Error: boom$/);
});

test("bad arguments to setDisplaySink and display are TypeErrors naming the argument", async () => {
  assert.throws(() => setDisplaySink("sink" as never), /^TypeError: setDisplaySink: sink must be a function or null, received 'sink'$/);
  await assert.rejects(display(1, { displayId: "" }), /^TypeError: display: opts.displayId must be a non-empty string, received ''$/);
  await assert.rejects(display(1, { displayId: 7 as never }), /opts.displayId must be a non-empty string, received 7/);
  await assert.rejects(display(1, "id" as never), /^TypeError: display: opts must be an object/);
  await assert.rejects(display(1, { metadata: 3 as never }), /^TypeError: display: opts.metadata must be an object, received 3$/);
});

test("clearOutput calls the kernel's clear-output sink (wait flag passed on) and does nothing without one", async () => {
  const key = Symbol.for("bitnet-lab.clearOutputSink");
  const g = globalThis as Record<symbol, unknown>;
  const calls: boolean[] = [];
  g[key] = (wait: boolean) => calls.push(wait);
  try {
    clearOutput();
    clearOutput(true);
    assert.deepEqual(calls, [false, true]);
    assert.throws(() => clearOutput("yes" as never), /^TypeError: clearOutput: wait must be a boolean, received 'yes'$/);
  } finally {
    delete g[key];
  }
  assert.equal(await captureStdout(async () => clearOutput()), "");
});
