export { packModel, PackModelOptions, PackedModel, PackedLayer } from "./pack";
export { InferenceEngine, InferenceEngineOptions, SchedulerStats, TokenizerLike, GenerateOptions, GenerationStats, GenerationResult, StreamedToken } from "./engine";
export { KVCacheFormat } from "./runner";
export { SamplingOptions, sampleToken, resolveSampling } from "./sampling";
export { savePackedModel, loadPackedModel, PackedModelFormatError } from "./io";
export { ModelCache, ModelCacheStats, ModelLoader } from "./cache";
export { exportGGUF, loadGGUF, ggufTokenizerToJSON, ExportGGUFOptions, LoadGGUFOptions, LoadedGGUF, HFTokenizerJSON } from "./gguf-model";
export { HFTokenizer, HFTokenizerOptions, HFEncodeOptions, HFDecodeOptions, HFFormatError } from "./hf-tokenizer";
export { bitNetConfigFromHF, loadHFBitNet, loadHFBitNetLM, LoadHFBitNetOptions, HFBitNet } from "./huggingface";
