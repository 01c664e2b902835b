// The Python interpreter the Jupyter-facing suites drive: Debian's /usr/bin/python3 (where CI's
// apt packages land), or BITNET_TEST_PYTHON (e.g. a virtualenv's python on a macOS runner).
export const PYTHON = process.env.BITNET_TEST_PYTHON || "/usr/bin/python3";
