print("before the error")
print(1 // int("0"))
