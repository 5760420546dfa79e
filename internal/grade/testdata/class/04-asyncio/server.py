# An asyncio server: one request and its reply per client, for as many
# clients as the second argument says, then it ends. Its sockets are
# non-blocking; it waits in epoll_wait. The port is the first argument.
import asyncio
import sys

PORT, CLIENTS = int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 1


async def main():
    done = asyncio.Event()
    served = 0

    async def handle(reader, writer):
        nonlocal served
        data = await reader.read(1024)
        writer.write(b"got " + data)
        await writer.drain()
        await reader.read(1024)  # until the client closes: end of file
        writer.close()
        await writer.wait_closed()
        served += 1
        if served == CLIENTS:
            done.set()

    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    async with server:
        await done.wait()


asyncio.run(main())
