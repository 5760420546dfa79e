# The stream lesson in Python: TCP keeps no message boundaries.
# The client writes five times; the server reads whatever has arrived, in
# pieces of any size, until end of file.
#
# Run it:  python3 stream.py                 both sides, two processes
#          python3 stream.py server [PORT]   the server (port 0 or none: the kernel chooses)
#          python3 stream.py client PORT     the client
# The server prints "listening on HOST:PORT" once it listens.
import socket
import subprocess
import sys
import time

HOST = '127.0.0.1'
PIECES = ['one', 'two', 'three', 'four', 'five']


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 1 create
    s.bind((HOST, port))  # 2 bind
    s.listen()  # 3 listen
    print('listening on %s:%d' % s.getsockname(), flush=True)
    conn, address = s.accept()  # 6 accept waits, 8 accepted
    time.sleep(0.2)  # let several writes pile up in the kernel
    while True:
        data = conn.recv(1024)  # 10 read: as many bytes as have arrived
        if not data:
            break  # 0 bytes: the client closed
        print('read', repr(data.decode('utf-8')), flush=True)
    conn.close()  # 11 close
    s.close()  # 11 close


def client(port):
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)  # 4 create
    c.connect((HOST, port))  # 5 connect starts, 7 connected
    for piece in PIECES:
        c.sendall(piece.encode('utf-8'))  # 9 write: five writes, no boundaries
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
