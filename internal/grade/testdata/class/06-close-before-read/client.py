# Closes before reading the reply: the server's reply is never read.
import socket
import sys

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", int(sys.argv[1])))
c.sendall("你好, server".encode('utf-8'))
c.close()
