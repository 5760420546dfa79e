# The refused lesson in Python: connect to a port where nothing listens.
#
# Run it:  python3 refused.py
# One program: it binds a port (so that no one else takes it) but never
# listens, then connects to it. The kernel answers the SYN with RST.
import socket

HOST = '127.0.0.1'

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
s.bind((HOST, 0))  # 2 bind: a port the kernel chooses; no listen
port = s.getsockname()[1]

c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
try:
    c.connect((HOST, port))  # 5 connect: refused, never 7
except ConnectionRefusedError as err:
    print('connect failed:', err, flush=True)
c.close()  # 11 close
s.close()  # 11 close
