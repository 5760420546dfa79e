# A server that serves for ever, as socketserver's documentation writes
# one: serve_forever waits in poll (or select) between clients and never
# ends by itself. Usage: PORT
import socketserver
import sys


class Upper(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.readline().upper())


socketserver.TCPServer.allow_reuse_address = True
with socketserver.TCPServer(("127.0.0.1", int(sys.argv[1])), Upper) as server:
    server.serve_forever()
