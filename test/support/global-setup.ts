import { execFileSync } from "node:child_process";

/**
 * Runs once before any spec: the child processes the specs spawn run from dist/, so it is
 * brought up to date (incrementally), and the Docker engine, nginx, openssl and the test image
 * are made ready.
 */
export function mochaGlobalSetup(): void {
  const run = (file: string, args: string[]) => execFileSync(file, args, { stdio: "inherit" });
  run("npm", ["run", "--silent", "build"]);
  run("bash", ["scripts/ensure-docker.sh"]);
  run("bash", ["scripts/ensure-test-tools.sh"]);
  run("bash", ["scripts/build-test-image.sh"]);
}
