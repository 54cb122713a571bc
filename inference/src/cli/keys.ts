import { checkOutputDir } from "@cbnn/shared";
import { Command } from "commander";
import { generateKeys } from "../runtime/keys";

const program = new Command()
  .name("pnpm keys")
  .description(
    "Make a throwaway CA and the three party certificates (CN cbnn-party-0/1/2) for local runs, with the openssl CLI. The CA key is deleted afterwards.",
  )
  .option("--out <dir>", "where to write ca.crt, p0.crt/p0.key, ...", "configs/parties/keys")
  .option("--hosts <list>", "extra host names / IPs for the certificates, comma-separated", "")
  .option("--days <n>", "validity in days", (v) => Number(v), 30)
  .option("--force", "overwrite existing files");

async function main(): Promise<void> {
  program.parse();
  const o = program.opts<{ out: string; hosts: string; days: number; force?: boolean }>();
  if (!Number.isInteger(o.days) || o.days < 1) throw new Error("--days must be a positive integer");
  const hosts = o.hosts
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h.length > 0);
  const files = generateKeys(checkOutputDir(o.out, "--out"), {
    hosts,
    days: o.days,
    force: o.force,
  });
  process.stdout.write(
    `wrote ${files.ca}\n${files.parties.map((p) => `wrote ${p.cert}, ${p.key}`).join("\n")}\n` +
      "each host needs ca.crt and its own pN.crt + pN.key only; the CA's private key was not kept\n",
  );
}

main().catch((e: Error) => {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(1);
});
