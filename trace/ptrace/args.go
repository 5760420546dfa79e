package ptrace

import (
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/socklab/socklab/trace"
)

// A format says how one argument of a call is shown (the table's args, by
// position), and when: at the call's entry, what the program hands the
// kernel (an address to connect to, the bytes it writes), or at its exit,
// what the kernel wrote back (the bytes read, a datagram's source). A
// format that needs a second argument (a length, an option's name) takes
// the one after it, marked part.
type format uint8

// formats are a call's arguments' formats, by position.
type formats []format

const (
	// ignored: not shown.
	ignored format = iota
	// part: read with the argument before it (its length, …).
	part
	// sockFD: the descriptor the call is on; the call is shown only when
	// it is a socket's, as the kernel says at the call.
	sockFD
	// familyTypeProto: socket's three arguments, shown as strace does.
	familyTypeProto
	// localAddr: a socket address (its length next) that becomes the
	// socket's own once the call returned 0 (bind).
	localAddr
	// remoteAddr: the socket address (its length next) the socket is
	// connected to (connect).
	remoteAddr
	// toAddr: the socket address (its length next) a datagram is sent
	// to, if given (sendto).
	toAddr
	// postFromAddr: the socket address (a pointer to its length next)
	// the kernel filled in with a datagram's source (recvfrom).
	postFromAddr
	// backlog: listen's backlog.
	backlog
	// howToShut: shutdown's how.
	howToShut
	// sockopt: setsockopt's level, then its option name.
	sockopt
	// setflFlags: F_SETFL's flags; O_NONBLOCK's bit is the socket's
	// once the call returned 0.
	setflFlags
	// postSockFlags: accept4's flags, shown with the accepted socket.
	postSockFlags
	// The buffers of a read (its size at entry, the bytes read at exit)
	// and of a write (the bytes it offers at entry, how many the kernel
	// took at exit): one buffer and its length next, an array of struct
	// iovec and its count next, a struct msghdr (recvmsg's name is a
	// datagram's source, sendmsg's its destination), or an array of
	// struct mmsghdr, of which the first message is shown (its name as
	// a msghdr's).
	readBuffer
	readIOVec
	recvMsgHdr
	recvMMsgHdr
	writeBuffer
	writeIOVec
	sendMsgHdr
	sendMMsgHdr
	// fionbioFlag: ioctl FIONBIO's pointer to the flag (1: non-blocking);
	// the socket's once the call returned 0.
	fionbioFlag
	// solSocket: the option's level, traced only when it is SOL_SOCKET
	// (getsockopt SO_ERROR).
	solSocket
	// postSockoptInt: the int the kernel wrote back (its length's pointer
	// next): SO_ERROR's pending error.
	postSockoptInt
	// The waits' (waits.go): epoll_create1's flags; the epoll descriptor;
	// epoll_ctl's operation, its descriptor (any, a socket or not) and
	// its struct epoll_event; poll's array of struct pollfd (its count
	// next); select's nfds and three fd_sets; the events epoll_wait
	// fills in (the most it may, next); the timeout in milliseconds, or
	// as a pointer to a struct timespec or timeval (NULL: for ever).
	epollFlags
	epollFD
	epollOp
	ctlFD
	epollEvent
	pollFDs
	fdSets
	postEpollEvents
	timeoutMs
	timeoutTimespec
	timeoutTimeval
)

// decodeEntry fills the Begin event of a call on a socket from its
// arguments, at its entry.
func (m *model) decodeEntry(pc *pending) {
	e, a, pid := &pc.e, pc.args, pc.p.pid
	next := func(i int) uint64 { return a[min(i+1, len(a)-1)] }
	for i, f := range pc.c.args {
		switch f {
		case localAddr:
			e.Local = m.sockaddrAt(pid, a[i], next(i))
		case remoteAddr:
			e.Remote = m.sockaddrAt(pid, a[i], next(i))
		case toAddr:
			if to := m.sockaddrAt(pid, a[i], next(i)); to != "" {
				e.Remote = to
			}
		case backlog:
			e.Arg = strconv.Itoa(int(int32(a[i])))
		case howToShut:
			e.Arg = shutdownHow(a[i])
			e.Command = e.Arg
		case sockopt:
			e.Arg, e.Option = sockoptArgs(a[i], next(i)), sockoptName(a[i], next(i))
		case setflFlags:
			e.Command, e.Arg = "F_SETFL", "F_SETFL, "+fcntlFlags(a[i])
		case fionbioFlag:
			e.Command, e.Value = "FIONBIO", m.int32At(pid, a[i])
			e.Arg = "FIONBIO, [" + strconv.Itoa(e.Value) + "]"
		case solSocket:
			e.Option = "SO_ERROR"
		case readBuffer, readIOVec, recvMsgHdr, recvMMsgHdr:
			e.N = total(m.buffers(pid, f, a[i], next(i)))
			e.Offered, e.Arg = e.N, strconv.Itoa(e.N)
		case writeBuffer, writeIOVec, sendMsgHdr, sendMMsgHdr:
			bufs := m.buffers(pid, f, a[i], next(i))
			e.N = total(bufs)
			e.Data = m.gather(pid, bufs, e.N)
			e.Offered, e.Arg = e.N, strconv.Itoa(e.N)
			if f == sendMsgHdr || f == sendMMsgHdr {
				if to := m.msgName(pid, a[i]); to != "" {
					e.Remote = to
				}
			}
		}
	}
}

// decodeExit fills the End event of a call on a socket from what the
// kernel wrote back, at its exit, and notes in the socket what the call
// made its own; ok says the call succeeded.
func (m *model) decodeExit(pc *pending, ok bool) {
	e, a, pid, s := &pc.e, pc.args, pc.p.pid, pc.sock
	next := func(i int) uint64 { return a[min(i+1, len(a)-1)] }
	for i, f := range pc.c.args {
		switch f {
		case localAddr:
			if ok {
				s.local = e.Local
			}
		case setflFlags:
			if ok {
				s.nonblock = a[i]&oNonblock != 0
			}
		case fionbioFlag:
			if ok {
				s.nonblock = e.Value != 0
			}
		case postSockoptInt:
			if ok {
				e.Value = m.int32At(pid, a[i])
				e.Arg = "SOL_SOCKET, SO_ERROR, [" + strconv.Itoa(e.Value) + "]"
				m.learnedConnect(s, e, e.Value == 0)
			}
		case postSockFlags:
			if ok {
				e.Arg = acceptFlags(a[i])
			}
		case postFromAddr:
			if ok && e.Op == trace.OpRecvfrom {
				if from := m.sockaddrAtLen(pid, a[i], next(i)); from != "" {
					e.Remote = from
				}
			}
		case readBuffer, readIOVec, recvMsgHdr, recvMMsgHdr:
			e.N = max(e.Ret, 0)
			if f == recvMMsgHdr {
				e.N = m.firstMsgLen(pid, a[i], e.Ret)
			}
			if ok {
				e.Data = m.gather(pid, m.buffers(pid, f, a[i], next(i)), e.N)
				if (f == recvMsgHdr || f == recvMMsgHdr) && e.Op == trace.OpRecvfrom {
					if from := m.msgName(pid, a[i]); from != "" {
						e.Remote = from
					}
				}
			}
		case writeBuffer, writeIOVec, sendMsgHdr, sendMMsgHdr:
			e.N = max(e.Ret, 0)
			if f == sendMMsgHdr {
				e.N = m.firstMsgLen(pid, a[i], e.Ret)
			}
			if e.N < len(e.Data) {
				e.Data = e.Data[:e.N]
			}
		}
	}
}

// int32At reads the int at addr in the program's memory (0 when it
// cannot).
func (m *model) int32At(pid int, addr uint64) int {
	if addr == 0 {
		return 0
	}
	b := make([]byte, 4)
	if n, _ := m.mem.read(pid, addr, b); n < 4 {
		return 0
	}
	return int(int32(binary.LittleEndian.Uint32(b)))
}

// oNonblock is O_NONBLOCK.
const oNonblock = 0o4000

// fcntlFlags shows F_SETFL's flags, O_NONBLOCK by name.
func fcntlFlags(flags uint64) string {
	if flags&oNonblock != 0 {
		if rest := flags &^ oNonblock; rest != 0 {
			return fmt.Sprintf("O_NONBLOCK|%#o", rest)
		}
		return "O_NONBLOCK"
	}
	return fmt.Sprintf("%#o", flags)
}

func acceptFlags(flags uint64) string {
	switch flags & (sockNonblock | sockCloexec) {
	case sockCloexec:
		return "SOCK_CLOEXEC"
	case sockNonblock:
		return "SOCK_NONBLOCK"
	case sockNonblock | sockCloexec:
		return "SOCK_CLOEXEC|SOCK_NONBLOCK"
	}
	return "0"
}

// sockaddrAt decodes the socket address of size n at addr.
func (m *model) sockaddrAt(pid int, addr, n uint64) string {
	if addr == 0 || n == 0 || n > 128 {
		return ""
	}
	b := make([]byte, n)
	got, _ := m.mem.read(pid, addr, b)
	return sockaddr(b[:got])
}

// sockaddrAtLen decodes the socket address at addr whose size is the
// 32-bit value at lenAddr, as recvfrom and accept leave them.
func (m *model) sockaddrAtLen(pid int, addr, lenAddr uint64) string {
	if addr == 0 || lenAddr == 0 {
		return ""
	}
	lenBuf := make([]byte, 4)
	if n, _ := m.mem.read(pid, lenAddr, lenBuf); n < 4 {
		return ""
	}
	return m.sockaddrAt(pid, addr, uint64(uint32(lenBuf[0])|uint32(lenBuf[1])<<8|uint32(lenBuf[2])<<16|uint32(lenBuf[3])<<24))
}

// msgName is the address a struct msghdr at addr names, if any.
func (m *model) msgName(pid int, addr uint64) string {
	if h, ok := m.msghdrAt(pid, addr); ok {
		return m.sockaddrAt(pid, h.name, uint64(h.namelen))
	}
	return ""
}

// firstMsgLen is how many bytes the first message of a sendmmsg or
// recvmmsg at addr carried, as the kernel wrote it in its struct mmsghdr
// (msg_len, after the msghdr): the call returns how many messages it
// sent or received (ret), not bytes. 0 when it moved none, or when the
// program's memory does not say.
func (m *model) firstMsgLen(pid int, addr uint64, ret int) int {
	if ret < 1 {
		return 0
	}
	b := make([]byte, 4)
	if n, _ := m.mem.read(pid, addr+msghdrSize, b); n < 4 {
		return 0
	}
	return int(min(binary.LittleEndian.Uint32(b), 1<<31-1))
}

// buffers returns the buffers an argument of format f names: arg, and
// after it next (a length, a count).
func (m *model) buffers(pid int, f format, arg, next uint64) []iovec {
	switch f {
	case readBuffer, writeBuffer:
		return []iovec{{arg, next}}
	case readIOVec, writeIOVec:
		return m.iovecsAt(pid, arg, next)
	case recvMsgHdr, sendMsgHdr, recvMMsgHdr, sendMMsgHdr:
		// Of a batch (an mmsghdr starts with its msghdr), the first
		// message only: what a lesson's view shows of it.
		if h, ok := m.msghdrAt(pid, arg); ok {
			return m.iovecsAt(pid, h.iov, h.iovlen)
		}
	}
	return nil
}

func (m *model) iovecsAt(pid int, addr, count uint64) []iovec {
	const iovMax = 1024
	if addr == 0 || count == 0 || count > iovMax {
		return nil
	}
	b := make([]byte, 16*count)
	n, _ := m.mem.read(pid, addr, b)
	return iovecs(b[:n])
}

func (m *model) msghdrAt(pid int, addr uint64) (msghdr, bool) {
	b := make([]byte, msghdrSize)
	if n, _ := m.mem.read(pid, addr, b); n < msghdrSize {
		return msghdr{}, false
	}
	return decodeMsghdr(b)
}

// total is how many bytes the buffers hold.
func total(bufs []iovec) int {
	var n uint64
	for _, v := range bufs {
		n += v.len
	}
	return int(min(n, 1<<31-1))
}

// gather reads up to limit bytes from bufs, in order.
func (m *model) gather(pid int, bufs []iovec, limit int) []byte {
	out := make([]byte, 0, min(limit, m.dataCap))
	for _, v := range bufs {
		if len(out) >= limit || len(out) >= m.dataCap {
			break
		}
		n := int(min(v.len, uint64(min(limit, m.dataCap)-len(out))))
		chunk := make([]byte, n)
		got, _ := m.mem.read(pid, v.base, chunk)
		out = append(out, chunk[:got]...)
		if got < n {
			break
		}
	}
	return out
}
