import { readdirSync, readFileSync } from "node:fs";

/**
 * SIGKILLs a process and all its descendants. Docker has no API to kill an exec, but exec
 * inspect gives the host PID, and the agent runs on the host. The whole tree is collected
 * before anything is killed, since killed parents' children are re-parented away.
 */
export function killProcessTree(rootPid: number): number {
  const childrenOf = new Map<number, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = parentPidOf(Number(entry));
    if (ppid !== undefined) childrenOf.set(ppid, [...(childrenOf.get(ppid) ?? []), Number(entry)]);
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) tree.push(...(childrenOf.get(tree[i]) ?? []));
  let killed = 0;
  for (const pid of tree) {
    try {
      process.kill(pid, "SIGKILL");
      killed++;
    } catch {
      // Already gone: it exited between the scan and the kill.
    }
  }
  return killed;
}

function parentPidOf(pid: number): number | undefined {
  try {
    // The command name in field 2 may hold spaces and parentheses; fields after the last ")" are fixed.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return undefined;
  }
}
