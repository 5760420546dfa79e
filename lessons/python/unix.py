# The unix lesson in Python: the same calls as TCP's, on a path in the
# file system instead of an address and port (AF_UNIX).
#
# Run it:  python3 unix.py                 both sides, two processes
#          python3 unix.py server [PATH]   the server (no path: one in a new temporary directory)
#          python3 unix.py client PATH     the client
# The server prints "listening on PATH" once it listens.
import os
import socket
import subprocess
import sys
import tempfile


def server(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # 1 create
    s.bind(path)  # 2 bind: creates the file
    s.listen()  # 3 listen
    print('listening on', path, flush=True)
    conn, address = s.accept()  # 6 accept waits, 8 accepted
    data = conn.recv(1024).decode('utf-8')  # 10 read
    print('client says:', data, flush=True)
    conn.sendall('hello, client'.encode('utf-8'))  # 9 write
    while conn.recv(1024):  # 10 read until 0 bytes: the client closed
        pass
    conn.close()  # 11 close
    s.close()  # 11 close
    os.remove(path)  # the file stays until someone removes it


def client(path):
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)  # 4 create
    c.connect(path)  # 5 connect, 7 connected: no handshake on the wire
    c.sendall('hello, server'.encode('utf-8'))  # 9 write
    print('server says:', c.recv(1024).decode('utf-8'), flush=True)  # 10 read
    c.close()  # 11 close


def both():
    srv = subprocess.Popen([sys.executable, __file__, 'server'], stdout=subprocess.PIPE, text=True)
    line = srv.stdout.readline()
    print(line, end='', flush=True)
    subprocess.run([sys.executable, __file__, 'client', line.split(' ', 2)[2].strip()])
    print(srv.stdout.read(), end='')
    srv.wait()


if __name__ == '__main__':
    if sys.argv[1:2] == ['server']:
        server(sys.argv[2] if len(sys.argv) > 2 else os.path.join(tempfile.mkdtemp(), 'socket'))
    elif sys.argv[1:2] == ['client']:
        client(sys.argv[2])
    else:
        both()
