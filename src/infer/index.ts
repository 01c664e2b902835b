export { packModel, PackedModel, PackedLayer } from "./pack";
export { InferenceEngine, TokenizerLike, GenerateOptions, GenerationStats, GenerationResult, StreamedToken } from "./engine";
export { SamplingOptions, sampleToken, resolveSampling } from "./sampling";
export { savePackedModel, loadPackedModel, PackedModelFormatError } from "./io";
