# The tutorial's server and client in one program: the server listens,
# then forks the client, which connects to it. One invocation, two
# processes.
import os
import socket

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0))
s.listen()
port = s.getsockname()[1]
if os.fork() == 0:
    s.close()
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.connect(("127.0.0.1", port))
    c.sendall(b"hello")
    print("client got", c.recv(1024), flush=True)
    c.close()
    os._exit(0)
conn, addr = s.accept()
conn.sendall(conn.recv(1024).upper())
while conn.recv(1024):
    pass
conn.close()
s.close()
os.wait()
