package i18n

// The English catalogue's messages for waiting, where it happens (issue 24):
// poll, select and epoll, non-blocking sockets, and what the kernel
// already holds when a call begins. A part of en.go's catalogue, kept in a
// file of its own; init adds it there.
var waitsEN = map[string]string{
	"op.poll":                         "poll",
	"op.epoll_create":                 "epoll",
	"op.epoll_ctl":                    "epoll_ctl",
	"op.ioctl":                        "ioctl",
	"op.getsockopt":                   "getsockopt",
	"note.list_sep":                   ", ",
	"wait.poll":                       "waits for: %s",
	"wait.fd":                         "fd %d (%s)",
	"wait.fd.listening":               "fd %d readable (listening: a connection)",
	"wait.fd.readable":                "fd %d readable (data or the end of the stream)",
	"wait.fd.writable":                "fd %d writable (room to write; after connect: the handshake's end)",
	"wait.fd.readwrite":               "fd %d readable or writable",
	"ready.fd":                        "fd %d (%s)",
	"ready.fd.listening":              "fd %d readable: a connection is queued, accept returns at once",
	"ready.fd.readable":               "fd %d readable: bytes (or the end of the stream) are waiting",
	"ready.fd.writable":               "fd %d writable",
	"ready.fd.readwrite":              "fd %d readable and writable",
	"note.ready":                      "ready: %s",
	"note.poll.timeout":               "nothing became ready before the timeout",
	"note.epoll.create":               "a new epoll set: the descriptors to wait on together",
	"note.epoll.add":                  "watches %s",
	"note.epoll.del":                  "stops watching fd %d",
	"note.fionbio.on":                 "non-blocking from now on: a call that would wait fails with EAGAIN",
	"note.fionbio.off":                "blocking again: calls wait",
	"note.so_error.connected":         "SO_ERROR is 0: the handshake is done, the socket is connected",
	"note.so_error.failed":            "the connect failed: its error is this value, not the call's result",
	"note.eagain":                     "nothing queued yet: a non-blocking call returns at once; the program will wait elsewhere (poll/epoll)",
	"note.inprogress":                 "handshake started: the call does not wait for it",
	"errno.EINPROGRESS":               "operation now in progress",
	"queue.accept.none":               "none queued: waits for a client",
	"queue.accept.one":                "1 connection queued: returns at once",
	"queue.accept.some":               "%d connections queued: returns at once",
	"queue.read.none":                 "nothing waiting: waits for data",
	"queue.read.some":                 "%d bytes waiting: returns at once",
	"queue.recvfrom.none":             "nothing waiting: waits for a datagram",
	"queue.recvfrom.some":             "a datagram of %d bytes waiting: returns at once",
	"explain.poll.begin":              "The program waits here, in one call, for any of these descriptors to become ready; its sockets are non-blocking, so this is the only place it blocks.",
	"explain.poll.end":                "The kernel says which descriptors are ready: the program now calls accept, read or write on those, and they return at once.",
	"explain.poll.timeout":            "The time given ran out with nothing ready: the program decides what to do (often: wait again).",
	"explain.epoll.create":            "epoll keeps a set of descriptors in the kernel, so that each wait does not hand the whole list over again: how one thread serves many clients.",
	"explain.epoll.ctl":               "epoll_ctl changes the set: which descriptors the next epoll_wait watches, and for what.",
	"explain.ioctl.fionbio":           "ioctl(FIONBIO) switches the socket between blocking and non-blocking; Python's settimeout and setblocking do it this way.",
	"explain.getsockopt.connected":    "A non-blocking connect returns before the handshake ends; the program learns the outcome by asking SO_ERROR once the socket is writable. 0: connected — here is step 7.",
	"explain.getsockopt.so_error":     "SO_ERROR holds the socket's pending error: after a non-blocking connect, why it failed.",
	"explain.connect.inprogress":      "EINPROGRESS is not a failure: on a non-blocking socket connect sends SYN and returns at once; the handshake goes on in the kernel.",
	"explain.accept.queued":           "The kernel already finished these handshakes: accept only takes the first connection from the queue, without waiting.",
	"explain.read.queued":             "The bytes are already in the receive buffer: read copies them out without waiting.",
	"explain.nonblock.eagain.program": "EAGAIN on a non-blocking socket: nothing yet. The call returns at once; the program waits for readiness elsewhere (poll, select, epoll) and tries again.",
}

func init() {
	for k, v := range waitsEN {
		en[k] = v
	}
}
