/**
 * Data for training: tokenizers, token datasets with the train/validation split of the PyTorch
 * reference, the Brown corpus as plain text, MNIST, and shuffled mini-batches.
 * @packageDocumentation
 */
export {
  Tokenizer,
  TokenizerJSON,
  ByteTokenizerJSON,
  CharTokenizerJSON,
  TokenIds,
  ByteTokenizer,
  CharTokenizer,
  tokenizerFromJSON,
  isTokenizer,
} from "./tokenizer";
export {
  TextDataset,
  TextDatasetOptions,
  TextDatasetArrowOptions,
  TokenBatch,
  TokenSplit,
  splitTokens,
  SPLIT_BLOCK_TOKENS,
  VALIDATION_EVERY,
} from "./text";
export { brownCorpus } from "./corpora";
export { MnistData, MnistSplit, MNIST_PIXELS, loadMnist, mnistSplit } from "./mnist";
export { Batch, BatchesOptions, batches } from "./batches";
