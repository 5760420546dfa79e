# A forking server as socketserver writes one: each connection is served
# by a child process; the parent waits in poll between clients and never
# ends by itself. Usage: PORT
import socketserver
import sys


class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.readline().upper())


socketserver.ForkingTCPServer.allow_reuse_address = True
with socketserver.ForkingTCPServer(("127.0.0.1", int(sys.argv[1])), Upper) as server:
    server.serve_forever()
