// Model files: ours (packed safetensors), GGUF (llama.cpp / bitnet.cpp) and Hugging Face BitNet
// checkpoints, read into a PackedModel (or a trainable BitNetLM) and written back. The tensor
// names and shapes every format shares are in layout.ts.
export { savePackedModel, loadPackedModel, PackedModelFormatError } from "./packed";
export { exportGGUF, loadGGUF, ExportGGUFOptions, LoadGGUFOptions, LoadedGGUF } from "./gguf";
export { bitNetConfigFromHF, loadHFBitNet, loadHFBitNetLM, LoadHFBitNetOptions, HFBitNet } from "./huggingface";
