// BigInt: the sum must be exact however large the integers are.
const words = require("fs").readFileSync(0, "utf8").split(/\s+/).filter((w) => w !== "");
console.log(words.reduce((s, w) => s + BigInt(w), 0n).toString());
