/**
 * bitnet-lab: tensors, ternary kernels, training and inference for BitNet b1.58 networks.
 * This file is the root entry point: what a notebook cell sees. The subpath entry points
 * (`bitnet-lab/nn`, `/train`, `/infer`, `/io`, `/viz`, `/arrow`, `/runtime`) hold each area
 * whole, file-format codecs and display plumbing included.
 * @packageDocumentation
 */
export * from "./tensor";
export { backendInfo, setNumThreads, getNumThreads, setIsa, getIsa, resolveDevice, Device, Isa, BackendInfo } from "./backend/runtime";
export {
  TensorColumn,
  TensorSource,
  TensorToArrowOptions,
  tensorToArrow,
  tensorFromArrow,
  tensorsToTable,
  tableToTensors,
  IPCFormat,
  WriteArrowFileOptions,
  writeArrowFile,
  readArrowFile,
  ArrowFormatError,
} from "./arrow";
export {
  TernaryLayout,
  WeightScaleMode,
  QuantizedActivations,
  quantizeActivationsInt8,
  TernaryWeights,
  quantizeWeightsTernary,
  PackedTernary,
  packedTernaryBytes,
  packTernary,
  unpackTernary,
  ternaryMatmul,
} from "./quant";
export { DenseWeights, DenseFormat, DENSE_FORMATS, denseMatmul, denseWeightBytes } from "./quant/dense";
export * from "./profile";
export { isGradEnabled, setGradEnabled, noGrad, record, zeroGrad } from "./autograd";
export * from "./ops";
export * from "./nn";
export {
  Tokenizer,
  TokenizerJSON,
  ByteTokenizerJSON,
  CharTokenizerJSON,
  TokenIds,
  ByteTokenizer,
  CharTokenizer,
  tokenizerFromJSON,
  TextDataset,
  TextDatasetOptions,
  TextDatasetArrowOptions,
  TokenBatch,
  TokenSplit,
  brownCorpus,
  MnistData,
  MnistSplit,
  MNIST_PIXELS,
  loadMnist,
  mnistSplit,
  Batch,
  BatchesOptions,
  batches,
} from "./data";
export * from "./train";
export {
  writeFileAtomic,
  SafetensorsFormatError,
  SafetensorsTensorInfo,
  SafetensorsContents,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
  GGUFFormatError,
  GGUFFile,
  readGGUF,
  writeGGUF,
} from "./io";
export {
  MIME_BUNDLE,
  MimeBundle,
  MimeBundleProvider,
  DisplayOptions,
  DisplayHandle,
  toMimeBundle,
  display,
  clearOutput,
  ProgressBar,
  ProgressBarOptions,
  Chart,
  ChartOptions,
  VegaLiteSpec,
  ChartCommonOptions,
  TrainingPoint,
  TrainingCurvesOptions,
  trainingCurves,
  ThroughputChartOptions,
  throughputChart,
  KernelRow,
  KernelChartOptions,
  kernelChart,
  TernaryFractions,
  TernaryHistogramOptions,
  ternaryFractions,
  ternaryHistogram,
  LatencySeries,
  LatencyChartOptions,
  latencyChart,
} from "./viz";
export {
  packModel,
  PackModelOptions,
  PackedModel,
  PackedLayer,
  InferenceEngine,
  InferenceEngineOptions,
  SchedulerStats,
  TokenizerLike,
  GenerateOptions,
  GenerationStats,
  GenerationResult,
  StreamedToken,
  KVCacheFormat,
  SamplingOptions,
  savePackedModel,
  loadPackedModel,
  PackedModelFormatError,
  ModelCache,
  ModelCacheStats,
  ModelLoader,
  exportGGUF,
  loadGGUF,
  ExportGGUFOptions,
  LoadGGUFOptions,
  LoadedGGUF,
  HFTokenizer,
  HFTokenizerOptions,
  HFEncodeOptions,
  HFDecodeOptions,
  HFFormatError,
  bitNetConfigFromHF,
  loadHFBitNet,
  loadHFBitNetLM,
  LoadHFBitNetOptions,
  HFBitNet,
} from "./infer";
export { InterruptedError, interruptRunning, onInterrupt } from "./runtime";
export { FormatError } from "./errors";
// The differentiable concat (ops) supersedes the tensor module's for f32 inputs.
export { concat } from "./ops";
