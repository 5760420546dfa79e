# A UDP echo server: bind, receive a datagram, send it back in capitals,
# close. There is no listen: the bind says it is ready. Usage: PORT
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
data, addr = s.recvfrom(1024)
s.sendto(data.upper(), addr)
s.close()
