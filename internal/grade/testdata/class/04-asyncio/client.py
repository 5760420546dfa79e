# An asyncio client: connect (EINPROGRESS, epoll_wait, SO_ERROR), send,
# read the reply, close. The port is the first argument.
import asyncio
import sys

PORT = int(sys.argv[1])


async def main():
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"hello")
    await writer.drain()
    print("server says:", (await reader.read(1024)).decode(), flush=True)
    writer.close()
    await writer.wait_closed()


asyncio.run(main())
