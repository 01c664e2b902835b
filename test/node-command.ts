// How tests start a child Node.js: process.execPath, or the command in BITNET_TEST_NODE (a JSON
// array such as ["qemu-aarch64", "/path/to/arm64/node"]) when the suites run under a user-mode
// emulator, whose guest cannot exec its own (foreign-architecture) binary.
import { spawnSync, SpawnSyncOptionsWithStringEncoding, SpawnSyncReturns } from "node:child_process";

/** The command words that run Node.js. */
export function nodeCommand(): string[] {
  const custom = process.env.BITNET_TEST_NODE;
  if (!custom) return [process.execPath];
  const words: unknown = JSON.parse(custom);
  if (!Array.isArray(words) || words.length === 0 || !words.every((w) => typeof w === "string")) {
    throw new Error(`BITNET_TEST_NODE must be a JSON array of strings, received ${custom}`);
  }
  return words as string[];
}

/** spawnSync of Node.js with `args`. */
export function spawnNode(args: string[], opts: SpawnSyncOptionsWithStringEncoding): SpawnSyncReturns<string> {
  const [cmd, ...pre] = nodeCommand();
  return spawnSync(cmd, [...pre, ...args], opts);
}

/** The Node.js command as shell words, for `sh -c '... exec <node> ...'`. */
export function nodeShellWords(): string {
  return nodeCommand()
    .map((w) => `'${w.replace(/'/g, `'\\''`)}'`)
    .join(" ");
}
