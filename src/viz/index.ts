// Visualization: the display protocol a notebook kernel consumes, rich representations of
// tensors and Arrow tables, and Vega-Lite chart builders. Nothing here imports the kernel.
export {
  MIME_BUNDLE,
  MimeBundle,
  MimeBundleProvider,
  DisplaySink,
  DisplaySinkOptions,
  DisplayOptions,
  DisplayHandle,
  setDisplaySink,
  toMimeBundle,
  display,
  clearOutput,
  hasDisplaySink,
} from "./display";
export { ProgressBar, ProgressBarOptions } from "./progress";
export { tensorMimeBundle, tableMimeBundle, tensorStats, TensorStats, TENSOR_STATS_LIMIT } from "./repr";
export { Chart, ChartOptions, VegaLiteSpec, VEGA_LITE_SCHEMA, VEGA_LITE_MIME } from "./chart";
export {
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
  TernaryLayerCodes,
  TernaryHistogramOptions,
  ModuleLike,
  ternaryFractions,
  ternaryHistogram,
  LatencySeries,
  LatencyChartOptions,
  latencyChart,
} from "./builders";
