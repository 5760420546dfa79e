# A server that waits in accept until SIGINT stops it; with --spawn it
# first runs a short child (a server that runs a command), so that it has
# seen a SIGCHLD before. The port is the first argument; interrupted, it
# exits with status 3.
import os
import signal
import socket
import sys

# Python leaves SIGINT ignored when it starts ignored (a background job):
# the test needs its KeyboardInterrupt.
signal.signal(signal.SIGINT, signal.default_int_handler)
if "--spawn" in sys.argv:
    pid = os.spawnv(os.P_NOWAIT, "/bin/true", ["true"])
    os.waitpid(pid, 0)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
print("listening", flush=True)
try:
    s.accept()
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
