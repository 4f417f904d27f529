// A type error: tsc emits JavaScript anyway, but the compile must fail.
const n: number = "not a number";
console.log(n);
