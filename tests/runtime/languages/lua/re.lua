print("before the error")
error("boom")
