# A one-thread server with selectors (epoll on Linux): it serves as many
# clients as the second argument says, each a request and its reply,
# then ends. The port is the first argument.
import selectors
import socket
import sys

PORT, CLIENTS = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1

sel = selectors.DefaultSelector()
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", PORT))
s.listen()
s.setblocking(False)
sel.register(s, selectors.EVENT_READ)
served = 0
while served < CLIENTS:
    for key, _ in sel.select():
        if key.fileobj is s:
            conn, _ = s.accept()
            conn.setblocking(False)
            sel.register(conn, selectors.EVENT_READ)
            continue
        conn = key.fileobj
        data = conn.recv(1024)
        if data:
            conn.sendall(b"got it")
            continue
        sel.unregister(conn)
        conn.close()
        served += 1
sel.unregister(s)
s.close()
