# The benchmark's file loop: N reads of a small file (open, read, close),
# none of them on a socket. Usage: bench_files.py FILE N
import sys

path, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    with open(path, "rb") as f:
        f.read()
