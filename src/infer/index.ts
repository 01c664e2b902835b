/**
 * `bitnet-lab/infer`: packed models and inference (engine, runner, sampling, the model cache),
 * with the model files (src/formats) and pretrained tokenizers (src/tokenizers) they load.
 * @packageDocumentation
 */
export { packModel, PackModelOptions, PackedModel, PackedLayer } from "./pack";
export { InferenceEngine, InferenceEngineOptions, SchedulerStats, TokenizerLike, GenerateOptions, GenerationStats, GenerationResult, StreamedToken } from "./engine";
export { KVCacheFormat } from "./runner";
export { SamplingOptions, sampleToken, resolveSampling } from "./sampling";
export { ModelCache, ModelCacheStats, ModelLoader } from "./cache";
export * from "../formats";
export * from "../tokenizers";
