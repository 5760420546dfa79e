# The basic lesson in Python: the classic exchange, steps 1 to 11.
#
# Run it:  python3 basic.py                 both sides, two processes
#          python3 basic.py server [PORT]   the server (port 0 or none: the kernel chooses)
#          python3 basic.py client PORT     the client
# The server prints "listening on HOST:PORT" once it listens.
import socket
import subprocess
import sys

HOST = '127.0.0.1'


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
    s.bind((HOST, port))  # 2 bind
    s.listen()  # 3 listen
    print('listening on %s:%d' % s.getsockname(), flush=True)
    conn, address = s.accept()  # 6 accept waits, 8 accepted: a new socket
    data = conn.recv(1024).decode('utf-8')  # 10 read
    print('client says:', data, flush=True)
    conn.sendall('hello, client'.encode('utf-8'))  # 9 write
    while conn.recv(1024):  # 10 read until 0 bytes: the client closed
        pass
    conn.close()  # 11 close
    s.close()  # 11 close the listening socket


def client(port):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
    c.connect((HOST, port))  # 5 connect starts, 7 connected
    c.sendall('hello, server'.encode('utf-8'))  # 9 write
    data = c.recv(1024).decode('utf-8')  # 10 read
    print('server says:', data, flush=True)
    c.close()  # 11 close


def both():
    # The server on a port the kernel chooses, then the client against it.
    srv = subprocess.Popen([sys.executable, __file__, 'server'], stdout=subprocess.PIPE, text=True)
    line = srv.stdout.readline()
    print(line, end='', flush=True)
    subprocess.run([sys.executable, __file__, 'client', line.rsplit(':', 1)[1]])
    print(srv.stdout.read(), end='')
    srv.wait()


if __name__ == '__main__':
    if sys.argv[1:2] == ['server']:
        server(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
    elif sys.argv[1:2] == ['client']:
        client(int(sys.argv[2]))
    else:
        both()
