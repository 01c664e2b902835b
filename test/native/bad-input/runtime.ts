// Bad-input cases of native/src/binding/runtime.cc.
import assert from "node:assert/strict";
import { addon } from "../../../src/backend/addon";
import { Binding, Case, raw, msg, info, unsupportedIsa, initialThreads, initialIsa } from "./harness";

export const TABLE: Record<string, Binding> = {
  setNumThreads: {
    riskyExtras: false,
    signature: "setNumThreads(threads)",
    required: 1,
    params: [{ name: "threads", kind: "number", expected: "a number", valid: () => initialThreads, range: [1, 512] }],
    extra: () => [],
    valid: () => {
      addon().setNumThreads(initialThreads);
      assert.equal(addon().getNumThreads(), initialThreads);
    },
  },

  getNumThreads: {
    riskyExtras: false,
    signature: "getNumThreads()",
    required: 0,
    params: [],
    extra: () => [],
    valid: () => assert.equal(addon().getNumThreads(), initialThreads),
  },

  setIsa: {
    riskyExtras: false,
    signature: "setIsa(isa)",
    required: 1,
    params: [{ name: "isa", kind: "string", expected: "a string", valid: () => initialIsa }],
    extra: () => {
      const isas = "one of 'auto', 'scalar', 'avx2', 'avxvnni', 'avx512', 'neon', 'neon-dotprod', 'neon-i8mm'";
      const cases: Case[] = ["sse", "", "AVX2", "avx-512", "auto "].map((bad) => ({
        label: `isa '${bad}'`,
        call: () => raw.setIsa(bad),
        error: RangeError,
        message: msg("setIsa", "isa", isas, `'${bad}'`),
      }));
      if (unsupportedIsa) {
        cases.push({
          label: `isa '${unsupportedIsa}' (not supported here)`,
          call: () => raw.setIsa(unsupportedIsa),
          error: RangeError,
          message: msg("setIsa", "isa", `an ISA this CPU and build support \\(best: '${info.isa.best}'\\)`, `'${unsupportedIsa}'`),
        });
      }
      return cases;
    },
    valid: () => {
      assert.equal(addon().setIsa(initialIsa), initialIsa);
      assert.equal(addon().getIsa(), initialIsa);
    },
  },

  getIsa: {
    riskyExtras: false,
    signature: "getIsa()",
    required: 0,
    params: [],
    extra: () => [],
    valid: () => assert.equal(addon().getIsa(), initialIsa),
  },

  selectDevice: {
    riskyExtras: false,
    signature: "selectDevice(device)",
    required: 1,
    params: [{ name: "device", kind: "string", expected: "a string", valid: () => "cpu" }],
    extra: () => {
      const cases: Case[] = ["gpu", "CPU", "", "cuda", "metal2"].map((bad) => ({
        label: `device '${bad}'`,
        call: () => raw.selectDevice(bad),
        error: RangeError,
        message: msg("selectDevice", "device", "one of 'cpu', 'metal', 'auto'", `'${bad}'`),
      }));
      if (!info.devices.metal) {
        // A real device this build lacks is not a bad argument: a plain Error that says so.
        cases.push({ label: "device 'metal' (not built)", call: () => raw.selectDevice("metal"), error: Error, message: /^selectDevice: device 'metal' is not available: .*use device 'cpu' or 'auto'$/ });
      }
      return cases;
    },
    valid: () => {
      assert.equal(addon().selectDevice("cpu"), "cpu");
      assert.equal(addon().selectDevice("auto"), "cpu");
    },
  },

  backendInfo: {
    riskyExtras: false,
    signature: "backendInfo()",
    required: 0,
    params: [],
    extra: () => [],
    valid: () => assert.deepEqual(addon().backendInfo().isa.supported, info.isa.supported),
  },
};
