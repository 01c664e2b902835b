// `npm run bench -- mnist`: a BitLinear MLP (784-512-512-10, ternary hidden layers, RMSNorm
// before each) against the same MLP in fp32 on the same seeded split of the mnist package's
// 10,000 digits (8,000 train / 2,000 test), 2 threads. Target: within 1.5 points of fp32, >= 94%,
// in under 3 minutes.
import { Generator, getNumThreads, noGrad, setNumThreads, tidy, Tensor } from "../src";
import { MLPClassifier } from "../src/nn";
import { batches, mnistSplit } from "../src/data";
import { AdamW, warmupCosine } from "../src/train";
import { crossEntropy } from "../src/ops";
import { printTable, Row, writeResults } from "./report";

const EPOCHS = 15;
const BATCH = 64;

function accuracy(model: MLPClassifier, x: Tensor<"f32">, y: Tensor<"i32">): number {
  return noGrad(() =>
    tidy(() => {
      const logits = model.forward(x).toFloat32Array();
      const labels = y.toFloat32Array();
      let right = 0;
      for (let i = 0; i < labels.length; i++) {
        let best = 0;
        for (let c = 1; c < 10; c++) if (logits[i * 10 + c] > logits[i * 10 + best]) best = c;
        if (best === labels[i]) right++;
      }
      return right / labels.length;
    }),
  );
}

function train(linear: "bitnet" | "fp32"): Row {
  const split = mnistSplit(new Generator(0), 0.2);
  const model = new MLPClassifier({ sizes: [784, 512, 512, 10], linear, seed: 0 });
  const steps = EPOCHS * Math.floor(split.trainX.shape[0] / BATCH);
  const peak = linear === "bitnet" ? 2e-3 : 1e-3;
  const [decay, noDecay] = AdamW.defaultGroups(model.namedParameters(), 0.01);
  const optimizer = new AdamW([decay, noDecay], { lr: peak, betas: [0.9, 0.95] });
  const schedule = warmupCosine({ peakLr: peak, warmupSteps: 50, totalSteps: steps, minRatio: 0.05, weightDecay: 0.01 });
  const shuffle = new Generator(1);
  const t0 = performance.now();
  let step = 0;
  let lastLoss = NaN;
  for (let epoch = 0; epoch < EPOCHS; epoch++) {
    for (const b of batches(split.trainX, split.trainY, BATCH, shuffle, { dropLast: true })) {
      const s = schedule(step);
      optimizer.setLr(s.lr);
      optimizer.setWeightDecay(s.weightDecay, 0);
      lastLoss = tidy(() => {
        const loss = crossEntropy(model.forward(b.inputs), b.targets);
        loss.backward();
        return loss.item();
      });
      b.inputs.dispose();
      b.targets.dispose();
      noGrad(() => optimizer.step());
      optimizer.zeroGrad();
      step++;
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  model.eval();
  const test = accuracy(model, split.testX, split.testY);
  const trainAcc = accuracy(model, split.trainX, split.trainY);
  for (const t of [split.trainX, split.trainY, split.testX, split.testY]) t.dispose();
  model.dispose();
  return { model: linear === "bitnet" ? "BitLinear MLP" : "fp32 MLP", epochs: EPOCHS, steps, "train seconds": seconds, "final loss": lastLoss, "train acc %": trainAcc * 100, "test acc %": test * 100 };
}

export function run(): void {
  const before = getNumThreads();
  setNumThreads(2);
  try {
    const rows = [train("fp32"), train("bitnet")];
    printTable(`MNIST (mnist package, 8000 train / 2000 test), 784-512-512-10, batch ${BATCH}, 2 threads`, rows);
    const gap = (rows[0]["test acc %"] as number) - (rows[1]["test acc %"] as number);
    console.log(`BitLinear MLP vs fp32: ${gap >= 0 ? "-" : "+"}${Math.abs(gap).toFixed(2)} points`);
    console.log(`results: ${writeResults("mnist", { rows, gapPoints: gap })}`);
  } finally {
    setNumThreads(before);
  }
}
