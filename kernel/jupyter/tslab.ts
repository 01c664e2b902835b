// The one place that reaches into tslab: its TypeScript 5.0 build (the checker notebook cells are
// typed with) and its converter, which tslab does not export publicly (tslab/dist/converter).
// Everything the kernel uses of them is typed here, so a tslab upgrade is checked in one file.
import type * as TS from "@tslab/typescript-for-tslab";

/** A symbol's quick info, as the converter's inspect() returns it. */
export interface ConverterQuickInfo {
  displayParts?: { text: string }[];
  documentation?: { text: string }[];
  tags?: { name: string; text?: { text: string }[] }[];
}

/** tslab's converter: one TypeScript program across a notebook's cells. */
export interface Converter {
  convert(prevDecl: string, src: string): unknown;
  complete(prevDecl: string, src: string, position: number): unknown;
  inspect(prevDecl: string, src: string, position: number): ConverterQuickInfo | undefined;
}

export interface ConverterModule {
  createConverter(): Converter;
  isCompleteCode(src: string): { completed: boolean; indent?: string };
}

let typescript: typeof TS | null = null;

/** tslab's TypeScript 5.0 (loaded on first use: it takes about a second). */
export function tslabTypeScript(): typeof TS {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return (typescript ??= require("@tslab/typescript-for-tslab") as typeof TS);
}

/** tslab's converter module. */
export function tslabConverter(): ConverterModule {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  return require("tslab/dist/converter") as ConverterModule;
}
