// Modules: layers and models built from the differentiable ops (src/ops), torch.nn style.
export { Module, ModuleList, LoadStateDictOptions, LoadStateDictResult } from "./module";
export { Linear, BitLinear, Embedding, RMSNorm, InitOptions, BitLinearLayerOptions, RMSNormOptions, INIT_STD } from "./layers";
export {
  BitNetConfig,
  ResolvedBitNetConfig,
  LinearKind,
  HiddenAct,
  resolveBitNetConfig,
  BitNetAttention,
  BitNetMLP,
  BitNetBlock,
  BitNetModel,
  BitNetLM,
  BitNetLMOptions,
} from "./bitnet";
export { MLPClassifier, MLPClassifierOptions } from "./mlp";
export { ternaryHistogramFromWeights } from "./ternary-codes";
