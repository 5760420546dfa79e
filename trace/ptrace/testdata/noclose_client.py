# A client that skips a step: it sends and leaves without reading the
# reply, and never calls close (its exit closes the socket).
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 65432
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", PORT))
c.sendall(b"hello")
