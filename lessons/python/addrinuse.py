# The addrinuse lesson in Python: only one socket may bind an address and
# port, while it listens and also while a connection on that port waits in
# TIME_WAIT; SO_REUSEADDR lets a new socket bind past TIME_WAIT.
#
# Run it:  python3 addrinuse.py
# One program, one thread: a connect returns once the kernel has finished
# the handshake, before accept, so one thread can play both sides.
import socket

HOST = '127.0.0.1'

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
s.bind((HOST, 0))  # 2 bind: a port the kernel chooses
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do
s.listen()  # 3 listen
port = s.getsockname()[1]

# A second server on the same port while the first listens: refused.
s2 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
try:
    s2.bind((HOST, port))  # 2 bind: EADDRINUSE
except OSError as err:
    print('while listening:', err, flush=True)
s2.close()

# A connection the server closes first: its port waits in TIME_WAIT.
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
c.connect((HOST, port))  # 5 connect, 7 connected
conn, address = s.accept()  # 6 accept, 8 accepted
conn.close()  # 11 close first: TIME_WAIT on the server's port
s.close()  # 11 close: nothing listens any more
c.recv(1024)  # 10 read: 0 bytes, end of file
c.close()  # 11 close

# A restarted server: without SO_REUSEADDR, TIME_WAIT still holds the port.
s3 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
try:
    s3.bind((HOST, port))  # 2 bind: EADDRINUSE
except OSError as err:
    print('in TIME_WAIT:', err, flush=True)
s3.close()

# With SO_REUSEADDR, set before bind, it may.
s4 = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s4.bind((HOST, port))  # 2 bind: works
print('with SO_REUSEADDR: bound', flush=True)
s4.close()
