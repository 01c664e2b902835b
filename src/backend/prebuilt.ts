// Prebuilt addons: one npm package per platform, carrying only bitnet_lab.node, listed by the
// published bitnet-lab as optional dependencies so that npm installs the one that matches
// (scripts/pack-prebuilt.js builds them). They make `npm install bitnet-lab` work without a
// compiler, and without running install scripts (npm 11 skips dependencies' by default).

/** A platform bitnet-lab ships a prebuilt addon for. */
export interface PrebuiltPlatform {
  /** npm package name, e.g. "@bitnet-lab/linux-x64-gnu". */
  name: string;
  /** package.json `os`, `cpu` and (Linux) `libc` fields npm selects the package by. */
  os: NodeJS.Platform;
  cpu: string;
  libc?: "glibc";
}

export const PREBUILT_PLATFORMS: readonly PrebuiltPlatform[] = [
  { name: "@bitnet-lab/linux-x64-gnu", os: "linux", cpu: "x64", libc: "glibc" },
  { name: "@bitnet-lab/linux-arm64-gnu", os: "linux", cpu: "arm64", libc: "glibc" },
  { name: "@bitnet-lab/darwin-arm64", os: "darwin", cpu: "arm64" },
];

/** The file a prebuilt package carries. */
export const PREBUILT_FILE = "bitnet_lab.node";

/** Whether this Linux process runs on glibc (musl has no glibcVersionRuntime in its report). */
function isGlibc(): boolean {
  const report = (process.report?.getReport() ?? {}) as { header?: { glibcVersionRuntime?: string } };
  return typeof report.header?.glibcVersionRuntime === "string";
}

/** The prebuilt package for this process's platform, or null when none is published for it. */
export function prebuiltPlatform(): PrebuiltPlatform | null {
  return (
    PREBUILT_PLATFORMS.find((p) => p.os === process.platform && p.cpu === process.arch && (p.libc === undefined || isGlibc())) ?? null
  );
}

/** The installed prebuilt addon file for this platform, or null. */
export function prebuiltAddonPath(): string | null {
  const p = prebuiltPlatform();
  if (!p) return null;
  try {
    return require.resolve(`${p.name}/${PREBUILT_FILE}`);
  } catch {
    return null;
  }
}
