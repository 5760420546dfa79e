# Reads first, as the client does: each waits for the other for ever.
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
conn, addr = s.accept()
data = conn.recv(1024)
conn.sendall(b"hello")
conn.close()
s.close()
