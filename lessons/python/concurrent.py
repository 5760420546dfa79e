# The concurrent lesson in Python: a thread for each connection, so the
# server goes straight back to accept. The client program opens three
# connections at once, a thread each.
#
# Run it:  python3 concurrent.py                 both sides, two processes
#          python3 concurrent.py server [PORT]   the server (port 0 or none: the kernel chooses)
#          python3 concurrent.py client PORT     the client
# The server prints "listening on HOST:PORT" once it listens.
import socket
import subprocess
import sys
import threading

HOST = '127.0.0.1'
CLIENTS = 3


def handle(conn, n):
    data = conn.recv(1024).decode('utf-8')  # 10 read
    conn.sendall(('hello, ' + data).encode('utf-8'))  # 9 write
    while conn.recv(1024):  # 10 read until the client closes
        pass
    conn.close()  # 11 close


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
    s.bind((HOST, port))  # 2 bind
    s.listen()  # 3 listen
    print('listening on %s:%d' % s.getsockname(), flush=True)
    threads = []
    for n in range(CLIENTS):
        conn, address = s.accept()  # 6 accept waits, 8 accepted
        t = threading.Thread(target=handle, args=(conn, n))  # this connection's own thread
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    s.close()  # 11 close


def one_client(port, n):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
    c.connect((HOST, port))  # 5 connect starts, 7 connected
    c.sendall(('client %d' % n).encode('utf-8'))  # 9 write
    print(c.recv(1024).decode('utf-8'), flush=True)  # 10 read
    c.close()  # 11 close


def client(port):
    threads = [threading.Thread(target=one_client, args=(port, n)) for n in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

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
