# The backlog lesson in Python: the kernel finishes handshakes by itself
# and queues the connections; the server accepts them only later.
#
# Run it:  python3 backlog.py                 both sides, two processes
#          python3 backlog.py server [PORT]   the server (port 0 or none: the kernel chooses)
#          python3 backlog.py client PORT     the client
# The server prints "listening on HOST:PORT" once it listens.
import socket
import subprocess
import sys
import time

HOST = '127.0.0.1'
CLIENTS = 3


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
    s.bind((HOST, port))  # 2 bind
    s.listen(CLIENTS)  # 3 listen: a queue of 3 connections
    print('listening on %s:%d' % s.getsockname(), flush=True)
    time.sleep(1)  # no accept yet: the clients' connects return all the same
    for n in range(CLIENTS):
        conn, address = s.accept()  # 8 accepted at once: it was queued
        data = conn.recv(1024).decode('utf-8')  # 10 read
        print('queued connection from', address, 'says', data, flush=True)
        conn.close()  # 11 close
    s.close()  # 11 close


def client(port):
    clients = []
    for n in range(CLIENTS):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
        c.connect((HOST, port))  # 5 connect, 7 connected: before any accept
        c.sendall(('client %d' % n).encode('utf-8'))  # 9 write
        clients.append(c)
    for c in clients:
        c.recv(1024)  # 10 read: 0 bytes once the server closed
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
