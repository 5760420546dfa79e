# The halfclose lesson in Python: the client shuts down its sending side
# (shutdown SHUT_WR) and still reads the server's answer.
#
# Run it:  python3 halfclose.py                 both sides, two processes
#          python3 halfclose.py server [PORT]   the server (port 0 or none: the kernel chooses)
#          python3 halfclose.py client PORT     the client
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
    conn, address = s.accept()  # 6 accept waits, 8 accepted
    received = b''
    while True:
        data = conn.recv(1024)  # 10 read until end of file: the client's shutdown
        if not data:
            break
        received += data
    answer = '%d bytes' % len(received)
    conn.sendall(answer.encode('utf-8'))  # 9 write: the other direction is still open
    conn.close()  # 11 close
    s.close()  # 11 close


def client(port):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
    c.connect((HOST, port))  # 5 connect starts, 7 connected
    c.sendall('all my data'.encode('utf-8'))  # 9 write
    c.shutdown(socket.SHUT_WR)  # no more writes: the server reads end of file
    while True:
        data = c.recv(1024)  # 10 read the answer, then end of file
        if not data:
            break
        print('server says:', data.decode('utf-8'), flush=True)
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
