// The Jupyter kernel over its wire protocol, in a child process, through our own ZeroMQ client:
// message flow of an execute, rich results, errors and stop_on_error, bad signatures and
// malformed messages (the kernel lives on), ESM imports, interrupts of a running training loop by
// control message and by signal, history and comms.
import { test, after, before } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { StartedKernel, startKernel } from "../../kernel/jupyter/client";

let k: StartedKernel;
let notebookDir: string;

before(async () => {
  // A directory with no node_modules: bitnet-lab and its packages must still resolve.
  notebookDir = fs.mkdtempSync(path.join(os.tmpdir(), "bitnet-notebook-"));
  k = await startKernel({ cwd: notebookDir, waitForTypeChecker: true });
});

after(async () => {
  await k.stop();
  fs.rmSync(notebookDir, { recursive: true, force: true });
});

const types = (msgs: { header: { msg_type: string } }[]): string[] => msgs.map((m) => m.header.msg_type);

test("kernel_info: status, protocol 5.3, TypeScript language_info", async () => {
  const { reply } = await k.client.request("shell", "kernel_info_request", {});
  assert.equal(reply.header.msg_type, "kernel_info_reply");
  assert.equal(reply.content.status, "ok");
  assert.equal(reply.content.protocol_version, "5.3");
  assert.deepEqual(
    { name: (reply.content.language_info as { name: string }).name, ext: (reply.content.language_info as { file_extension: string }).file_extension },
    { name: "typescript", ext: ".ts" },
  );
  const control = await k.client.request("control", "kernel_info_request", {});
  assert.equal(control.reply.content.status, "ok");
});

test("execute: busy, execute_input, stream, execute_result, idle; counts advance; values live across cells", async () => {
  const a = await k.client.execute("let x: number = 20;\nconsole.log('hello, world');\nx + 1");
  assert.deepEqual(types(a.iopub), ["status", "execute_input", "stream", "execute_result", "status"]);
  assert.equal(a.iopub[0].content.execution_state, "busy");
  assert.equal(a.iopub[2].content.text, "hello, world\n");
  assert.deepEqual(a.iopub[3].content.data, { "text/plain": "21" });
  assert.equal(a.reply.content.status, "ok");
  const n = a.reply.content.execution_count as number;
  assert.equal(a.iopub[3].content.execution_count, n);
  const b = await k.client.execute("x * 2");
  assert.equal(b.reply.content.execution_count, n + 1);
  assert.deepEqual(b.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data, { "text/plain": "40" });
  const silent = await k.client.execute("x", { silent: true });
  assert.deepEqual(types(silent.iopub), ["status", "status"], "silent: no execute_input, no result");
  assert.equal(silent.reply.content.execution_count, n + 1, "silent cells do not count");
  const err = await k.client.execute("console.error('to stderr')");
  assert.deepEqual(err.iopub.filter((m) => m.header.msg_type === "stream").map((m) => m.content), [{ name: "stderr", text: "to stderr\n" }]);
});

test("errors: ename/evalue/traceback on the reply and on iopub; type errors too; stop_on_error aborts queued cells only", async () => {
  const e = await k.client.execute("function boom(): never { throw new RangeError('boom at depth 1'); }\nboom()");
  assert.equal(e.reply.content.status, "error");
  assert.equal(e.reply.content.ename, "RangeError");
  assert.equal(e.reply.content.evalue, "boom at depth 1");
  assert.ok((e.reply.content.traceback as string[]).some((l) => l.includes("boom")));
  const iopubError = e.iopub.find((m) => m.header.msg_type === "error")!;
  assert.deepEqual(iopubError.content, { ename: "RangeError", evalue: "boom at depth 1", traceback: e.reply.content.traceback });

  const t = await k.client.execute("const s: string = 5;");
  assert.equal(t.reply.content.status, "error");
  assert.equal(t.reply.content.ename, "TypeScriptError");
  assert.match(t.reply.content.evalue as string, /TS2322: Type 'number' is not assignable to type 'string'/);

  // Three cells sent at once: the first fails, the two queued behind it are aborted.
  const runs = [k.client.execute("throw new Error('first')"), k.client.execute("1"), k.client.execute("2")];
  const [first, second, third] = await Promise.all(runs);
  assert.equal(first.reply.content.status, "error");
  assert.equal(second.reply.content.status, "aborted");
  assert.equal(third.reply.content.status, "aborted");
  const later = await k.client.execute("3");
  assert.equal(later.reply.content.status, "ok", "a cell sent after the failure runs");
  // stop_on_error false: the next queued cell runs.
  const [f2, ok2] = await Promise.all([k.client.execute("throw new Error('again')", { stopOnError: false }), k.client.execute("4")]);
  assert.equal(f2.reply.content.status, "error");
  assert.equal(ok2.reply.content.status, "ok");
});

test("a stray async error (a promise not awaited, a throw in a timer) is shown under its cell, and the kernel lives on", async () => {
  const seen: { header: { msg_type: string }; parent_header: { msg_id?: string }; content: Record<string, unknown> }[] = [];
  const off = k.client.onIopub((m) => seen.push(m as unknown as (typeof seen)[number]));
  const waitForError = async (evalue: string) => {
    for (let i = 0; i < 200; i++) {
      const m = seen.find((x) => x.header.msg_type === "error" && x.content.evalue === evalue);
      if (m) return m;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`no error output '${evalue}' arrived`);
  };
  try {
    const a = await k.client.execute('async function forgot(): Promise<void> { throw new Error("forgot await"); }\nforgot();\n"sent"');
    assert.equal(a.reply.content.status, "ok");
    const ea = await waitForError("forgot await");
    assert.equal(ea.parent_header.msg_id, a.reply.parent_header.msg_id, "shown under the cell that caused it");
    assert.equal(ea.content.ename, "Error");
    assert.ok((ea.content.traceback as string[]).some((l) => /unhandled promise rejection/.test(l)));
    const b = await k.client.execute('setTimeout(() => { throw new RangeError("late throw"); }, 5);');
    assert.equal(b.reply.content.status, "ok");
    const eb = await waitForError("late throw");
    assert.equal(eb.content.ename, "RangeError");
    assert.ok((eb.content.traceback as string[]).some((l) => /uncaught exception/.test(l)));
    const alive = await k.client.execute("40 + 2");
    assert.deepEqual(alive.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data, { "text/plain": "42" }, "the kernel and its state live on");
  } finally {
    off();
  }
});

test("bad signatures and malformed messages are dropped; the kernel stays alive", async () => {
  const forged = k.client.frames("execute_request", { code: "globalThis.pwned = true", silent: false }, "not-the-key");
  await k.client.sendRaw("shell", forged.frames);
  await k.client.sendRaw("shell", [Buffer.from("<IDS|MSG>"), Buffer.from("sig")]);
  const good = k.client.frames("kernel_info_request", {});
  const notJson = [...good.frames];
  notJson[notJson.length - 1] = Buffer.from("{not json");
  await k.client.sendRaw("shell", notJson);
  await k.client.sendRaw("control", [Buffer.from("garbage")]);
  const r = await k.client.execute("typeof (globalThis as any).pwned");
  assert.deepEqual(r.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data, { "text/plain": "undefined" }, "the forged cell never ran");
});

test("ESM-only packages import from a cell with a plain import; bitnet-lab resolves outside any project", async () => {
  const r = await k.client.execute("import * as vl from 'vega-lite';\nimport { Tensor, fromArray } from 'bitnet-lab';\nconst t: Tensor = fromArray([1, 2, 3]);\n`${typeof vl.compile} ${t.shape}`");
  assert.equal(r.reply.content.status, "ok", JSON.stringify(r.reply.content));
  assert.deepEqual(r.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data, { "text/plain": "function 3" });
});

const TRAINER_CELL = `
import { AdamW, BitNetLM, CharTokenizer, TextDataset, Trainer, crossEntropy } from "bitnet-lab";
const text = "abcdefgh ".repeat(2000);
const data = TextDataset.fromText(text, CharTokenizer.fromText(text));
const model = new BitNetLM({ hidden_size: 16, intermediate_size: 32, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 2, vocab_size: data.vocabSize }, { seed: 0 });
const trainer = new Trainer({
  model, optimizer: new AdamW(model.parameters(), { lr: 1e-3 }), seed: 1,
  nextBatch: (g) => data.batch(2, 8, g),
  loss: (b) => crossEntropy(model.forward(b.inputs).reshape([-1, data.vocabSize]), b.targets.reshape([-1])),
});
`;

test("interrupt by control message ends a running trainer.fit at a step boundary; the kernel and the model stay usable", async () => {
  await k.client.execute(TRAINER_CELL);
  const running = k.client.execute("await trainer.fit({ steps: 1_000_000 })");
  await new Promise((r) => setTimeout(r, 700));
  const ir = await k.client.request("control", "interrupt_request", {});
  assert.equal(ir.reply.content.status, "ok");
  const r = await running;
  assert.equal(r.reply.content.status, "error");
  assert.match(r.reply.content.ename as string, /^(InterruptedError|KeyboardInterrupt)$/);
  const after = await k.client.execute("[trainer.running, trainer.step > 0, Number.isFinite(trainer.history[trainer.history.length - 1].loss)].join(' ')");
  assert.deepEqual(after.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data, { "text/plain": "false true true" });
  const again = await k.client.execute("const before = trainer.step; await trainer.fit({ steps: 2 }); trainer.step - before");
  assert.deepEqual(again.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data, { "text/plain": "2" }, "training resumes");
});

test("interrupt by SIGINT stops a synchronous loop and an async training loop", async () => {
  const spin = k.client.execute("let spins = 0; while (true) { spins++; }");
  await new Promise((r) => setTimeout(r, 500));
  k.process.kill("SIGINT");
  const s = await spin;
  assert.equal(s.reply.content.status, "error");
  assert.equal(s.reply.content.ename, "KeyboardInterrupt");
  const fit = k.client.execute("await trainer.fit({ steps: 1_000_000 })");
  await new Promise((r) => setTimeout(r, 500));
  k.process.kill("SIGINT");
  const f = await fit;
  assert.equal(f.reply.content.status, "error");
  const ok = await k.client.execute("trainer.running");
  assert.deepEqual(ok.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data, { "text/plain": "false" });
});

test("rich output: a Tensor's HTML, a training-curve chart as Vega-Lite + SVG with its marks, the Trainer's progress bar as one display id updated in place", async () => {
  const t = await k.client.execute("import { fromArray as fa } from 'bitnet-lab';\nfa([[1, 2], [3, 4]])");
  const tensor = t.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, string>;
  assert.match(tensor["text/html"], /\[2, 2\]/);
  assert.match(tensor["text/html"], /f32/);

  const fit = await k.client.execute("await trainer.fit({ steps: 12 })");
  assert.equal(fit.reply.content.status, "ok", JSON.stringify(fit.reply.content));
  const shown = fit.iopub.filter((m) => m.header.msg_type === "display_data" || m.header.msg_type === "update_display_data");
  assert.ok(shown.length >= 2, `display_data then update_display_data: ${types(fit.iopub)}`);
  assert.equal(shown[0].header.msg_type, "display_data");
  const id = (shown[0].content.transient as { display_id: string }).display_id;
  assert.ok(id.length > 0);
  assert.ok(shown.slice(1).every((m) => m.header.msg_type === "update_display_data" && (m.content.transient as { display_id: string }).display_id === id), "one display id");
  assert.match((shown[shown.length - 1].content.data as Record<string, string>)["text/plain"], /^training █{24} 100% 12\/12/);

  const chart = await k.client.execute("import { trainingCurves } from 'bitnet-lab';\ntrainingCurves(trainer.metricsTable())");
  assert.equal(chart.reply.content.status, "ok", JSON.stringify(chart.reply.content));
  const data = chart.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data as Record<string, unknown>;
  assert.equal((data["application/vnd.vegalite.v5+json"] as { $schema: string }).$schema, "https://vega.github.io/schema/vega-lite/v5.json");
  const svg = data["image/svg+xml"] as string;
  assert.match(svg, /^<svg/);
  assert.ok((svg.match(/class="mark-line role-mark/g) ?? []).length >= 1, "the loss curve is a line mark");
  assert.match(data["text/plain"] as string, /Chart/);
});

test("is_complete, complete, inspect, history, comm_info, comm_open", async () => {
  const status = async (code: string) => (await k.client.request("shell", "is_complete_request", { code })).reply.content.status;
  assert.equal(await status("1 + 1"), "complete");
  assert.equal(await status("function f(a: number) {"), "incomplete");
  assert.equal(await status("1 +* 2"), "invalid");
  const c = await k.client.request("shell", "complete_request", { code: "Math.ab", cursor_pos: 7 });
  assert.deepEqual(c.reply.content.matches, ["abs"]);
  assert.deepEqual([c.reply.content.cursor_start, c.reply.content.cursor_end], [5, 7]);
  const i = await k.client.request("shell", "inspect_request", { code: "Math.max", cursor_pos: 8, detail_level: 0 });
  assert.equal(i.reply.content.found, true);
  assert.match((i.reply.content.data as Record<string, string>)["text/plain"], /max\(\.\.\.values: number\[\]\): number/);
  const h = await k.client.request("shell", "history_request", { output: false, raw: true, hist_access_type: "tail", n: 2 });
  assert.equal(h.reply.content.status, "ok");
  assert.equal((h.reply.content.history as unknown[]).length, 2);
  const ci = await k.client.request("shell", "comm_info_request", {});
  assert.deepEqual(ci.reply.content, { status: "ok", comms: {} });
  const closed = new Promise<Record<string, unknown>>((resolve) => {
    const off = k.client.onIopub((m) => {
      if (m.header.msg_type === "comm_close") {
        off();
        resolve(m.content);
      }
    });
  });
  await k.client.sendRaw("shell", k.client.frames("comm_open", { comm_id: "c1", target_name: "nobody", data: {} }).frames);
  assert.equal((await closed).comm_id, "c1", "an unknown comm target is closed");
});

test("fast start: cells sent at launch run before the type checker is up; their type errors are reported once it is", async () => {
  const fresh = await startKernel({ cwd: notebookDir });
  try {
    const first = await fresh.client.execute("import { fromArray } from 'bitnet-lab';\nconst early: string = 42;\nconst t = fromArray([1, 2]);\nt.shape[0] + 1");
    assert.equal(first.reply.content.status, "ok");
    assert.deepEqual(first.iopub.find((m) => m.header.msg_type === "execute_result")!.content.data, { "text/plain": "3" });
    const late = new Promise<string>((resolve) => {
      const off = fresh.client.onIopub((m) => {
        if (m.header.msg_type === "stream" && m.parent_header.msg_id === first.reply.parent_header.msg_id) {
          off();
          resolve(m.content.text as string);
        }
      });
    });
    assert.match(await late, /type errors \(found once the type checker loaded\):\n2:7 - TS2322: Type 'number' is not assignable to type 'string'/);
    // Checked cells see the fast cell's values and declarations.
    const next = await fresh.client.execute("t.shape.length + early.length");
    assert.equal(next.reply.content.status, "ok", JSON.stringify(next.reply.content));
    // shutdown_request (restart: true is echoed for the manager that restarts us): the process exits 0.
    const exited = new Promise<number | null>((resolve) => fresh.process.once("exit", (code) => resolve(code)));
    const bye = await fresh.client.request("control", "shutdown_request", { restart: true });
    assert.deepEqual(bye.reply.content, { status: "ok", restart: true });
    assert.equal(await exited, 0);
  } finally {
    await fresh.stop();
  }
});
