# A forking server: it accepts, forks a child to serve the connection, and
# closes its own copy of the connection. The child waits until the parent
# has closed it (a pipe), so that the parent's close is always of a copy
# the child still holds. Usage: forking_server.py PORT
import os
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
conn, _ = s.accept()
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    s.close()
    os.close(w)
    os.read(r, 1)  # the parent has closed its copy
    data = conn.recv(1024)
    conn.sendall(data.upper())
    while conn.recv(1024):
        pass
    conn.close()
    os._exit(0)
conn.close()  # the parent's copy: the connection lives on in the child
os.close(r)
os.write(w, b"x")
os.waitpid(pid, 0)
s.close()
