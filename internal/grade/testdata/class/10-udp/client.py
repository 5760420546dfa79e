# A UDP client: send a datagram to the server, read its answer, close.
# Usage: PORT
import socket
import sys

c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
c.sendto(b"hello", ("127.0.0.1", int(sys.argv[1])))
data, _ = c.recvfrom(1024)
print(f"server says: {data.decode()}", flush=True)
c.close()
