import sys

print(sum(int(t) for t in sys.stdin.read().split()))
