# The benchmark's socket loop: N times connect, send, receive, close, as a
# student's client does once. Usage: bench_client.py PORT N
import socket
import sys

port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.1", port))
    c.sendall(b"ping")
    c.recv(1024)
    c.close()
