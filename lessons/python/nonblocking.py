# The nonblocking lesson in Python: non-blocking sockets never wait;
# each peer waits only in poll, and asks SO_ERROR how its connect ended.
#
# Run it:  python3 nonblocking.py                 both sides, two processes
#          python3 nonblocking.py server [PORT]   the server (port 0 or none: the kernel chooses)
#          python3 nonblocking.py client PORT     the client
# The server prints "listening on HOST:PORT" once it listens.
import errno
import select
import socket
import subprocess
import sys
import time

HOST = '127.0.0.1'


def wait(sock, event):
    p = select.poll()
    p.register(sock, event)
    p.poll()  # the one place this program waits


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
    s.bind((HOST, port))  # 2 bind
    s.listen()  # 3 listen
    s.setblocking(False)  # from now on, calls that would wait fail at once
    print('listening on %s:%d' % s.getsockname(), flush=True)
    while True:
        try:
            conn, address = s.accept()  # 6 accept: BlockingIOError until a client comes
            break
        except BlockingIOError:
            wait(s, select.POLLIN)
    conn.setblocking(False)
    while True:
        try:
            data = conn.recv(1024)  # 10 read: BlockingIOError until bytes arrive
            break
        except BlockingIOError:
            wait(conn, select.POLLIN)
    conn.send(data.upper())  # 9 write
    while True:
        wait(conn, select.POLLIN)
        if not conn.recv(1024):  # 10 read: 0 bytes, the client closed
            break
    conn.close()  # 11 close
    s.close()  # 11 close


def client(port):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
    c.setblocking(False)
    err = c.connect_ex((HOST, port))  # 5 connect starts: EINPROGRESS
    print('connect:', errno.errorcode.get(err, err), flush=True)
    wait(c, select.POLLOUT)
    err = c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # 7 connected when this is 0
    time.sleep(0.5)  # so that the server's first read finds nothing
    c.send('hello, server'.encode('utf-8'))  # 9 write
    wait(c, select.POLLIN)
    print('server says:', c.recv(1024).decode('utf-8'), flush=True)  # 10 read
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
