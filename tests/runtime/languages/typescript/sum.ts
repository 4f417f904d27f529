import { readFileSync } from "fs";

const words: string[] = readFileSync(0, "utf8").split(/\s+/).filter((w) => w !== "");
let total: bigint = BigInt(0);
for (const w of words) total += BigInt(w);
console.log(total.toString());
