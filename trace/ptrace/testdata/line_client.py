# A client that sends one line and prints the answer. Usage: PORT
import socket
import sys

c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"hello\n")
print(f"server says: {c.recv(1024).decode().strip()}", flush=True)
c.close()
