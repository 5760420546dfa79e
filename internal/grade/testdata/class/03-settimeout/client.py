# A client that sets a timeout, as common advice says: settimeout makes
# the socket non-blocking (ioctl FIONBIO); connect returns EINPROGRESS and
# Python waits in poll, then asks SO_ERROR; sendall and recv poll too.
# The port is the first argument.
import socket
import sys

PORT = int(sys.argv[1])

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.settimeout(5)
c.connect(("127.0.0.1", PORT))
c.sendall("你好, server".encode('utf-8'))
data = c.recv(1024).decode('utf-8')
print(f"server says: {data}", flush=True)
c.close()
