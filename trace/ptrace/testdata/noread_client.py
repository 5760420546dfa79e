# A client that skips a step: it sends, waits until the reply has arrived,
# and closes without reading it. Closing a socket with unread bytes resets
# the connection (RST), so the server's next recv fails. Usage: PORT
import select
import socket
import sys

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 65432
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", PORT))
c.sendall(b"hello")
select.select([c], [], [], 5)  # the reply is here: readable, and not read
c.close()
