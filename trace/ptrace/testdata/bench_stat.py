# The benchmark's stat loop: N stat calls, which the filter lets run
# untraced. Usage: bench_stat.py FILE N
import os
import sys

path, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    os.stat(path)
