# A non-blocking client that never asks SO_ERROR: it starts the handshake
# (connect_ex: EINPROGRESS), gives it time, and sends; its first send that
# moves bytes is where it learns it is connected. The port is the first
# argument.
import socket
import sys
import time

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.setblocking(False)
c.connect_ex(("127.0.0.1", int(sys.argv[1])))
time.sleep(0.1)
c.send("你好, server".encode('utf-8'))
c.setblocking(True)
print("server says:", c.recv(1024).decode('utf-8'), flush=True)
c.close()
