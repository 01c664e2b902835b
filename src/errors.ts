// Errors shared by the file formats: one base class, so a caller can catch "this file is not
// what it claims" whatever the format, and still tell the formats apart by class or `format`.

/**
 * Bytes or a file that break a format's rules (truncated, corrupt, hostile sizes, or something
 * bitnet-lab does not read). The message names the file (or buffer), the field or tensor, the
 * problem and what was expected. Subclasses: GGUFFormatError, SafetensorsFormatError,
 * ArrowFormatError, HFFormatError, PackedModelFormatError.
 */
export class FormatError extends Error {
  override name = "FormatError";
  /** The format whose rules were broken, e.g. "GGUF". */
  readonly format: string;
  constructor(format: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.format = format;
  }
}
