# The timewait lesson in Python: TIME_WAIT falls on whichever side closes
# first. Two rounds on one listening socket: first the client closes first,
# then the server.
#
# Run it:  python3 timewait.py
# One program, one thread: a connect returns once the kernel has finished
# the handshake, before accept, so one thread can play both sides.
import socket

HOST = '127.0.0.1'

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
s.bind((HOST, 0))  # 2 bind: a port the kernel chooses
s.listen()  # 3 listen
port = s.getsockname()[1]

# Round 1: the client closes first.
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
c.connect((HOST, port))  # 5 connect, 7 connected
conn, address = s.accept()  # 6 accept, 8 accepted
c.close()  # 11 close first: the client's socket goes to TIME_WAIT
conn.recv(1024)  # 10 read: 0 bytes, end of file
conn.close()  # 11 close second: no TIME_WAIT here

# Round 2: the server closes first.
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
c.connect((HOST, port))  # 5 connect, 7 connected
conn, address = s.accept()  # 6 accept, 8 accepted
conn.close()  # 11 close first: now the server's side waits in TIME_WAIT
c.recv(1024)  # 10 read: 0 bytes, end of file
c.close()  # 11 close second
s.close()  # 11 close the listening socket
print('see them: ss -tan state time-wait', flush=True)
