import { randomUUID } from "node:crypto";
import Docker from "dockerode";

export const BENCH_IMAGE = "meshexec-test:busybox";
const LABEL = "meshexec-bench";

/**
 * The bench's containers on the local engine. Each carries a label, so removeAll() finds them
 * even after a crash of an earlier run.
 */
export class BenchContainers {
  private readonly docker = new Docker();

  async start(count: number): Promise<string[]> {
    return Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const name = `meshexec-bench-${i}-${randomUUID().slice(0, 8)}`;
        const container = await this.docker.createContainer({ Image: BENCH_IMAGE, name, Cmd: ["/bin/sleep", "infinity"], Labels: { [LABEL]: "1" } });
        await container.start();
        return name;
      }),
    );
  }

  async removeAll(): Promise<number> {
    const found = await this.docker.listContainers({ all: true, filters: { label: [LABEL] } });
    await Promise.all(
      found.map((c) =>
        this.docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => undefined),
      ),
    );
    return found.length;
  }
}
