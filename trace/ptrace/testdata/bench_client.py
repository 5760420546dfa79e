# The benchmark's socket loop: N times connect, send, receive, close, as a
# student's client does once; with "timeout", each socket has one
# (settimeout: non-blocking, waiting in poll). Usage: bench_client.py PORT
# N [timeout]
import socket
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
timeout = len(sys.argv) > 3 and sys.argv[3] == "timeout"
for _ in range(n):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if timeout:
        c.settimeout(5)
    c.connect(("127.0.0.1", port))
    c.sendall(b"ping")
    c.recv(1024)
    c.close()
