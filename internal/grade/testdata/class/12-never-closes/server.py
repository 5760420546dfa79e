# A server as the class's Python tutorial writes it: socket, bind, listen,
# accept, recv, sendall, close. The reply is typed at its input() prompt
# (or comes on its standard input); the port is the first argument.
import socket
import sys

HOST = "127.0.0.1"
PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 65432

s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.bind((HOST, PORT))
s.listen()
conn, addr = s.accept()
data = conn.recv(1024).decode('utf-8')
print(f"client says: {data}", flush=True)
reply = input("reply:\n")  # on a line of its own, not mixed into the trace
conn.sendall(reply.encode('utf-8'))
while conn.recv(1024):  # until the client closes: end of file
    pass
conn.close()
s.close()
