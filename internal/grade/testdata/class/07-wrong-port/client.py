# The port is written in, and wrong: 1235, where nothing listens.
import socket

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", 1235))
c.sendall("你好, server".encode('utf-8'))
print(c.recv(1024).decode('utf-8'))
c.close()
