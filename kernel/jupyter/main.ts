// `bitnet-lab kernel run --connection-file F`: the process Jupyter starts.
import { JupyterKernel, readConnectionFile } from "./kernel";

export async function runKernel(connectionFile: string, packageRoot: string): Promise<JupyterKernel> {
  const kernel = new JupyterKernel(readConnectionFile(connectionFile), { cwd: process.cwd(), packageRoot });
  await kernel.start();
  return kernel;
}
