# The udp lesson in Python: datagrams, no connection. The server binds
# and reads two datagrams, then answers the sender of the last one.
#
# Run it:  python3 udp.py                 both sides, two processes
#          python3 udp.py server [PORT]   the server (port 0 or none: the kernel chooses)
#          python3 udp.py client PORT     the client
# The server prints "listening on HOST:PORT" once it listens.
import socket
import subprocess
import sys

HOST = '127.0.0.1'


def server(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # 1 create
    s.bind((HOST, port))  # 2 bind: no listen, no accept
    print('listening on %s:%d' % s.getsockname(), flush=True)
    for n in range(2):
        data, address = s.recvfrom(1024)  # 10 read one datagram, and who sent it
        print('from', address, data.decode('utf-8'), flush=True)
    s.sendto('got both'.encode('utf-8'), address)  # 9 write one datagram back
    s.close()  # 11 close


def client(port):
    c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # 4 create: no connect
    c.sendto('one'.encode('utf-8'), (HOST, port))  # 9 write: each sendto is one datagram
    c.sendto('two'.encode('utf-8'), (HOST, port))  # 9 write
    data, address = c.recvfrom(1024)  # 10 read
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
