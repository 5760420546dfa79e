# Sends, shuts its writing side (SHUT_WR: the server reads end of file),
# then reads the reply until end of file, then closes: the halfclose
# lesson's client.
import socket
import sys

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", int(sys.argv[1])))
c.sendall("你好, server".encode('utf-8'))
c.shutdown(socket.SHUT_WR)
reply = b""
while True:
    data = c.recv(1024)
    if not data:
        break
    reply += data
print("server says:", reply.decode('utf-8'), flush=True)
c.close()
