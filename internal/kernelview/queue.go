package kernelview

// What the kernel already holds for a call about to begin: the
// connections a listening socket's accept would take, the bytes a read
// would copy. Observations (a getsockopt, an ioctl), not traced calls.

// AcceptQueue returns how many finished connections wait in the accept
// queue of the listening TCP socket fd (Linux: TCP_INFO's tcpi_unacked,
// which on a listener counts its queue, tcpi_sacked being its backlog);
// ok is false where the kernel does not say (not a TCP listener, or not
// Linux).
func AcceptQueue(fd int) (n int, ok bool) { return sysAcceptQueue(fd) }

// BytesWaiting returns how many bytes wait to be read on fd (ioctl
// SIOCINQ, also called FIONREAD): on a stream, all the bytes received and
// not yet read; on a datagram socket, the size of the next datagram. ok is
// false where the kernel does not say.
func BytesWaiting(fd int) (n int, ok bool) { return sysBytesWaiting(fd) }
