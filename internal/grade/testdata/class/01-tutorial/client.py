# A client as the class's Python tutorial writes it: socket, connect,
# sendall, recv, close. The port is the first argument.
import socket
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 65432

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect((HOST, PORT))
c.sendall("你好, server".encode('utf-8'))
data = c.recv(1024).decode('utf-8')
print(f"server says: {data}", flush=True)
c.close()
