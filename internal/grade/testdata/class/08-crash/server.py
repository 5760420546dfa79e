# Crashes on the message: it parses the greeting as a number.
import socket
import sys

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen()
conn, addr = s.accept()
data = conn.recv(1024).decode('utf-8')
n = int(data)
conn.sendall(str(n + 1).encode())
conn.close()
s.close()
