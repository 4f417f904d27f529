function fail(why: string): never {
    throw new Error(why);
}
console.log("before the error");
fail("boom");
