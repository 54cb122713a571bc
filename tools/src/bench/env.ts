import { execFileSync } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Repository root (tools/src/bench -> ../../..). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  /** 1-minute load average when the suite finished (the machine may be shared). */
  loadavg1: number;
  memGB: number;
  node: string;
  platform: string;
}

export interface GitInfo {
  /** Short commit hash, or "unknown" outside a git checkout. */
  commit: string;
  /** Uncommitted changes to tracked files when the suite ran. */
  dirty: boolean;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? "unknown",
    loadavg1: Number(os.loadavg()[0]!.toFixed(2)),
    memGB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    platform: `${os.platform()}-${os.arch()}`,
  };
}

export function gitInfo(cwd = REPO_ROOT): GitInfo {
  try {
    const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
    const status = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    return { commit, dirty: status.trim().length > 0 };
  } catch {
    return { commit: "unknown", dirty: false };
  }
}

/** "2 x Intel(R) Xeon(R) ..., commit abc1234 (dirty)". */
export function describeRun(m: MachineInfo, g: GitInfo): string {
  return `${m.cpus} x ${m.cpuModel}, node ${m.node}, commit ${g.commit}${g.dirty ? " (dirty)" : ""}`;
}
