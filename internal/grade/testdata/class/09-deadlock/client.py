# Reads first: so does the server. Each waits for the other for ever.
import socket
import sys

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", int(sys.argv[1])))
data = c.recv(1024)
c.sendall("你好, server".encode('utf-8'))
c.close()
