# Never closes its socket: it leaves at once (os._exit), and the kernel
# closes the socket as the process ends.
import os
import socket
import sys

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", int(sys.argv[1])))
c.sendall("你好, server".encode('utf-8'))
print("server says:", c.recv(1024).decode('utf-8'), flush=True)
os._exit(0)
