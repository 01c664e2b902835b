// Tokenizers of pretrained models: Hugging Face tokenizer.json (BPE, byte-level) and the
// vocabulary a GGUF file embeds, converted to the same JSON.
export { HFTokenizer, HFTokenizerOptions, HFEncodeOptions, HFDecodeOptions, HFFormatError } from "./hf";
export { ggufTokenizerToJSON, HFTokenizerJSON } from "./gguf";
