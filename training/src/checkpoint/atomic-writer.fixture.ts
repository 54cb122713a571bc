// Test fixture: rewrites argv[2] atomically forever with 4 MiB of one repeated byte.
import { writeFileAtomic } from "./atomic";

const path = process.argv[2];
const buf = new Uint8Array(4 << 20);
for (let i = 1; ; i++) {
  buf.fill(i & 0xff);
  writeFileAtomic(path, buf);
  if (i === 1) process.stdout.write("ready\n");
}
