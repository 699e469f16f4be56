import { randomUUID } from "node:crypto";
import Docker from "dockerode";

export const TEST_IMAGE = "meshexec-test:busybox";

/** Real containers on the local engine for a spec, all removed by removeAll(). */
export class TestContainers {
  readonly docker = new Docker();
  private readonly names: string[] = [];

  /** Starts a container that sleeps forever and returns its name. */
  async start(prefix = "meshexec-test"): Promise<string> {
    const name = `${prefix}-${randomUUID().slice(0, 8)}`;
    const container = await this.docker.createContainer({ Image: TEST_IMAGE, name, Cmd: ["/bin/sleep", "infinity"], WorkingDir: "/" });
    this.names.push(name);
    await container.start();
    return name;
  }

  /** The command lines of the processes running in a container, as `docker top` lists them. */
  async processes(name: string): Promise<string[]> {
    // The engine needs the PID column to pick the container's processes out of ps.
    const top = await this.docker.getContainer(name).top({ ps_args: "-o pid,args" });
    return top.Processes.map((row: string[]) => row.slice(1).join(" "));
  }

  /** How many processes in the container have `needle` in their command line. */
  async countRunning(name: string, needle: string): Promise<number> {
    return (await this.processes(name)).filter((p) => p.includes(needle)).length;
  }

  async removeAll(): Promise<void> {
    await Promise.all(
      this.names.splice(0).map((name) =>
        this.docker
          .getContainer(name)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
  }
}
