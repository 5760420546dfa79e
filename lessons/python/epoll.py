# The epoll lesson in Python: one thread serves many clients, waiting in
# one place (selectors picks epoll on Linux) for whichever socket is ready.
# The client program runs three ordinary blocking clients, a thread each.
#
# Run it:  python3 epoll.py                 both sides, two processes
#          python3 epoll.py server [PORT]   the server (port 0 or none: the kernel chooses)
#          python3 epoll.py client PORT     the client
# The server prints "listening on HOST:PORT" once it listens.
import selectors
import socket
import subprocess
import sys
import threading

HOST = '127.0.0.1'
CLIENTS = 3


def server(port):
    sel = selectors.DefaultSelector()  # epoll_create1
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
    s.bind((HOST, port))  # 2 bind
    s.listen()  # 3 listen
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)  # epoll_ctl: tell me when a client comes
    print('listening on %s:%d' % s.getsockname(), flush=True)
    served = 0
    while served < CLIENTS:
        for key, events in sel.select():  # epoll_wait: the one place it waits
            sock = key.fileobj
            if sock is s:
                conn, address = s.accept()  # 8 accepted at once: it was ready
                conn.setblocking(False)
                sel.register(conn, selectors.EVENT_READ)
                continue
            data = sock.recv(1024)  # 10 read at once: it was ready
            if data:
                sock.send(data.upper())  # 9 write
            else:
                sel.unregister(sock)
                sock.close()  # 11 close: the client closed
                served += 1
    sel.close()
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
