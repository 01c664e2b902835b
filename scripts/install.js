#!/usr/bin/env node
// package.json "install": builds the native addon from source (cmake-js, CMake >= 3.15 and a
// C++17 compiler) in a checkout (`npm ci` here always builds), or when no working prebuilt addon
// package matches this platform; skips the build when one does. npm 11 runs a dependency's
// install script only when the user approved it, so a plain `npm install bitnet-lab` relies on
// the prebuilt package, which the addon loader finds at run time without this script.
"use strict";
const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const prebuiltModule = path.join(root, "dist", "src", "backend", "prebuilt.js");

function build() {
  const cmakeJs = require.resolve("cmake-js/bin/cmake-js", { paths: [root] });
  const r = spawnSync(process.execPath, [cmakeJs, "compile", "-d", "native", "-O", "native/build"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(
      "bitnet-lab: building the native addon from source failed (it needs CMake >= 3.15 and a C++17 compiler). " +
        "Prebuilt addons exist for linux-x64 (glibc), linux-arm64 (glibc) and darwin-arm64.",
    );
    process.exit(r.status === null ? 1 : r.status);
  }
}

// An install for another platform (npm install --cpu/--os, e.g. a bundle for an arm64 machine
// made on x86-64) can neither build nor check that platform's addon here.
const targetCpu = process.env.npm_config_cpu || process.arch;
const targetOs = process.env.npm_config_os || process.platform;
if (targetCpu !== process.arch || targetOs !== process.platform) {
  console.log(`bitnet-lab: installing for ${targetOs}-${targetCpu} on ${process.platform}-${process.arch}: its prebuilt addon package is loaded at run time`);
  process.exit(0);
}

// A checkout (or an explicit request) builds from source; so does a package without its compiled
// JavaScript (a source archive).
const fromSource = process.env.BITNET_LAB_BUILD_FROM_SOURCE === "1" || fs.existsSync(path.join(root, ".git")) || !fs.existsSync(prebuiltModule);
if (fromSource) {
  build();
} else {
  const { prebuiltAddonPath, prebuiltPlatform } = require(prebuiltModule);
  const file = prebuiltAddonPath();
  let error = null;
  if (file) {
    try {
      require(file);
    } catch (e) {
      error = e;
    }
  }
  if (file && !error) {
    console.log(`bitnet-lab: using the prebuilt addon ${file}`);
  } else {
    const platform = prebuiltPlatform();
    console.log(
      `bitnet-lab: ${platform ? `the prebuilt addon ${platform.name} ${file ? `does not load (${error.message})` : "is not installed"}` : `no prebuilt addon for ${process.platform}-${process.arch}`}; building from source`,
    );
    build();
  }
}
