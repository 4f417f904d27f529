console.log("before the error");
throw new Error("boom");
