package ptrace

import "github.com/socklab/socklab/trace"

// The system calls socklab trace shows, each declared once: its name, its
// number on each architecture, the step it is (trace.Op), how each of its
// arguments is shown and when — at the call's entry (what the program
// hands the kernel) or at its exit (what the kernel wrote back) — the role
// it says its socket plays, what else it does to the socket, and whether
// the kernel's view is read after it. The seccomp filter (filter.go), the
// tracing thread (stops_linux.go) and the model (model.go, args.go) walk
// this table; none of them names a call. Adding a call to socklab trace is
// one entry here (and, for a step of its own, its sentences in the
// catalogue, trace/i18n).
//
// The shape is gVisor's strace (pkg/sentry/strace/linux64_amd64.go):
// makeSyscallInfo("connect", FD, SockAddr, Hex), one format per argument,
// a Post… format decoded after the call.
//
// The numbers, nrs{amd64, arm64}, are the kernel's
// (arch/x86/entry/syscalls/syscall_64.tbl, include/uapi/asm-generic/
// unistd.h for arm64), as golang.org/x/sys/unix has them; -1 where an
// architecture has no such call (arm64 has no poll, select or epoll_wait).
var table = [...]callSpec{
	{name: "socket", nr: nrs{41, 198}, op: trace.OpCreate, args: formats{familyTypeProto, part, part}, does: creates},
	{name: "bind", nr: nrs{49, 200}, op: trace.OpBind, args: formats{sockFD, localAddr, part}, role: asServerIfDatagram},
	{name: "listen", nr: nrs{50, 201}, op: trace.OpListen, args: formats{sockFD, backlog}, role: asServer, does: listens, view: true},
	{name: "accept", nr: nrs{43, 202}, op: trace.OpAccept, args: formats{sockFD}, role: asServer, does: accepts},
	{name: "accept4", nr: nrs{288, 242}, op: trace.OpAccept, args: formats{sockFD, ignored, ignored, postSockFlags}, role: asServer, does: accepts},
	{name: "connect", nr: nrs{42, 203}, op: trace.OpConnect, args: formats{sockFD, remoteAddr, part}, role: asClient, does: connects, view: true},
	{name: "read", nr: nrs{0, 63}, op: trace.OpRead, dgram: trace.OpRecvfrom, args: formats{sockFD, readBuffer, part}, view: true},
	{name: "readv", nr: nrs{19, 65}, op: trace.OpRead, dgram: trace.OpRecvfrom, args: formats{sockFD, readIOVec, part}, view: true},
	{name: "recvfrom", nr: nrs{45, 207}, op: trace.OpRead, dgram: trace.OpRecvfrom, args: formats{sockFD, readBuffer, part, ignored, postFromAddr, part}, view: true},
	{name: "recvmsg", nr: nrs{47, 212}, op: trace.OpRead, dgram: trace.OpRecvfrom, args: formats{sockFD, recvMsgHdr}, view: true},
	{name: "recvmmsg", nr: nrs{299, 243}, op: trace.OpRead, dgram: trace.OpRecvfrom, args: formats{sockFD, recvMMsgHdr}, view: true},
	{name: "write", nr: nrs{1, 64}, op: trace.OpWrite, dgram: trace.OpSendto, args: formats{sockFD, writeBuffer, part}, view: true},
	{name: "writev", nr: nrs{20, 66}, op: trace.OpWrite, dgram: trace.OpSendto, args: formats{sockFD, writeIOVec, part}, view: true},
	{name: "sendto", nr: nrs{44, 206}, op: trace.OpWrite, dgram: trace.OpSendto, args: formats{sockFD, writeBuffer, part, ignored, toAddr, part}, role: asClientIfAddressed, view: true},
	{name: "sendmsg", nr: nrs{46, 211}, op: trace.OpWrite, dgram: trace.OpSendto, args: formats{sockFD, sendMsgHdr}, role: asClientIfAddressed, view: true},
	{name: "sendmmsg", nr: nrs{307, 269}, op: trace.OpWrite, dgram: trace.OpSendto, args: formats{sockFD, sendMMsgHdr}, role: asClientIfAddressed, view: true},
	{name: "shutdown", nr: nrs{48, 210}, op: trace.OpShutdown, args: formats{sockFD, howToShut}, view: true},
	{name: "close", nr: nrs{3, 57}, op: trace.OpClose, args: formats{sockFD}, does: closes},
	{name: "getsockname", nr: nrs{51, 204}, op: trace.OpGetsockname, args: formats{sockFD}, does: asksLocal},
	{name: "setsockopt", nr: nrs{54, 208}, op: trace.OpSetsockopt, args: formats{sockFD, sockopt, part}},
	// Only F_SETFL: it is how a program makes a socket non-blocking;
	// F_GETFL and the rest pass untraced.
	{name: "fcntl", nr: nrs{72, 25}, op: trace.OpFcntl, args: formats{sockFD, ignored, setflFlags}, only: &argIs{1, fSetfl}},
	// Only FIONBIO: Python's settimeout and setblocking make a socket
	// non-blocking (or blocking again) with it.
	{name: "ioctl", nr: nrs{16, 29}, op: trace.OpIoctl, args: formats{sockFD, ignored, fionbioFlag}, only: &argIs{1, fionbio}},
	// Only SO_ERROR (its level, SOL_SOCKET, is checked by the model): how
	// a non-blocking connect's program learns the handshake's outcome.
	{name: "getsockopt", nr: nrs{55, 209}, op: trace.OpGetsockopt, args: formats{sockFD, solSocket, ignored, postSockoptInt, part}, only: &argIs{2, soError}},
	// The waits (waits.go): shown when a socket of the lesson is among
	// their descriptors; an epoll set once a socket is added to it.
	{name: "epoll_create", nr: nrs{213, -1}, op: trace.OpEpollCreate, args: formats{ignored}, wait: true},
	{name: "epoll_create1", nr: nrs{291, 20}, op: trace.OpEpollCreate, args: formats{epollFlags}, wait: true},
	{name: "epoll_ctl", nr: nrs{233, 21}, op: trace.OpEpollCtl, args: formats{epollFD, epollOp, ctlFD, epollEvent}, wait: true},
	{name: "poll", nr: nrs{7, -1}, op: trace.OpPoll, args: formats{pollFDs, part, timeoutMs}, wait: true},
	{name: "ppoll", nr: nrs{271, 73}, op: trace.OpPoll, args: formats{pollFDs, part, timeoutTimespec}, wait: true},
	{name: "select", nr: nrs{23, -1}, op: trace.OpPoll, args: formats{fdSets, part, part, part, timeoutTimeval}, wait: true},
	{name: "pselect6", nr: nrs{270, 72}, op: trace.OpPoll, args: formats{fdSets, part, part, part, timeoutTimespec}, wait: true},
	{name: "epoll_wait", nr: nrs{232, -1}, op: trace.OpPoll, args: formats{epollFD, postEpollEvents, part, timeoutMs}, wait: true},
	{name: "epoll_pwait", nr: nrs{281, 22}, op: trace.OpPoll, args: formats{epollFD, postEpollEvents, part, timeoutMs}, wait: true},
	{name: "epoll_pwait2", nr: nrs{441, 441}, op: trace.OpPoll, args: formats{epollFD, postEpollEvents, part, timeoutTimespec}, wait: true},
	// A program that sets up an io_uring may make its socket calls
	// through it, where no system call shows them: noticed, and said in
	// one line when the program ends (Exit.IOUring).
	{name: "io_uring_setup", nr: nrs{425, 425}, op: opNotice, args: formats{ignored}, notice: true},
}

// The waits a program makes before it reads, writes or accepts fit the
// same shape, each with a format of its own where its arguments are new:
// ioctl's FIONBIO is traced for that value of its argument 1 as fcntl's
// F_SETFL is (only), its argument 2 a pointer to the flag; poll and ppoll
// name their descriptors in an array of struct pollfd (its count next),
// select and pselect6 in three fd_sets, epoll_wait and its siblings in
// the epoll set that epoll_ctl built (the model remembers it per process
// and epoll descriptor) and in the events the kernel fills in (a Post…
// format); -1 marks poll, select and epoll_wait, which arm64 lacks. A
// call with several descriptors (wait: true) is the model's waits.go's:
// shown when one of them is a socket of the lesson, its peer that
// socket's.

// A callSpec is one entry of the table.
type callSpec struct {
	name string
	nr   nrs
	// op is the step the call is; dgram, if set, the step it is on a
	// datagram socket (a read of a UDP socket is a recvfrom).
	op, dgram trace.Op
	// args says how each argument is shown, by position (see format).
	args formats
	// role is the role a call on a socket whose role is not known yet
	// says it plays.
	role implies
	// does is what else the call does to its socket, seen at its exit.
	does effect
	// view: the kernel's view of the socket (its TCP state) is read
	// after the call, when the trace asks for it (Options.KernelState).
	// An accept reads the new connection's, a close the kernel's table's
	// (their effects, accepts and closes).
	view bool
	// only, if set, traces the call only when an argument has a value:
	// the filter lets the others through untraced.
	only *argIs
	// wait: the call waits on, or builds a set of, descriptors (poll,
	// select, epoll): the model's waits.go follows it.
	wait bool
	// notice: the call is not shown, only noticed (io_uring_setup).
	notice bool
}

// opNotice is the op of a call that is noticed, never shown.
const opNotice trace.Op = "notice"

// A call is one call socklab trace shows: an entry of the table, or nil
// for none.
type call = *callSpec

func (c *callSpec) String() string { return c.name }

// nrs are a call's numbers on amd64 and arm64, -1 for none.
type nrs struct{ amd64, arm64 int }

// argIs is a condition on an argument: its low 32 bits are value.
type argIs struct {
	arg   int
	value uint32
}

// traced reports whether the call, with these arguments, is one socklab
// shows: the same choice as the filter's, for a trace without it.
func (c *callSpec) traced(args [6]uint64) bool {
	return c.only == nil || uint32(args[c.only.arg]) == c.only.value
}

// fdArg returns the position of the call's socket descriptor, or -1 for a
// call that makes one (socket).
func (c *callSpec) fdArg() int {
	for i, f := range c.args {
		if f == sockFD {
			return i
		}
	}
	return -1
}

// implies is what a call says of the role of a socket whose role is not
// known yet.
type implies uint8

const (
	// asNothing: the call does not say (a write, a close).
	asNothing implies = iota
	// asServer: a listen or an accept.
	asServer
	// asClient: a connect, unless it is to a name service (glibc's nscd,
	// DNS): then the socket is startup noise.
	asClient
	// asServerIfDatagram: a bind says it is a server's only for a datagram
	// server given as --server: it has no listen to say it.
	asServerIfDatagram
	// asClientIfAddressed: a send to an address (not a name service) is a
	// client's.
	asClientIfAddressed
)

// effect is what a call does to its socket besides what its arguments
// say.
type effect uint8

const (
	noEffect effect = iota
	// creates: the call makes the socket (socket); its descriptor is
	// the call's result.
	creates
	// accepts: the call's result is a new connection's descriptor.
	accepts
	// connects: the kernel picks the socket's local address.
	connects
	// listens: the socket listens once the call returned 0.
	listens
	// asksLocal: the call learns the socket's local address.
	asksLocal
	// closes: the descriptor is gone, and with the last one the socket.
	closes
)

// An arch is one architecture's numbering of the calls, and the value
// seccomp gives it in seccomp_data.arch (AUDIT_ARCH_*).
type arch struct {
	name  string
	audit uint32
	// x32 marks the x32 ABI's calls on amd64 (nr | 0x40000000): 32-bit
	// programs, which the filter lets through untraced.
	x32 uint32
	// number picks the architecture's number out of a call's.
	number func(nrs) int
	// nr is the number of each call of the table it has.
	nr map[call]uint32
	// calls is nr turned around, for the tracer's lookups at each stop.
	calls [maxNr]call
}

// maxNr bounds the numbers of the traced calls on every architecture.
const maxNr = 512

// fSetfl is fcntl's F_SETFL; fionbio ioctl's FIONBIO; soError
// getsockopt's SO_ERROR (of SOL_SOCKET, solSocketLevel).
const (
	fSetfl         = 4
	fionbio        = 0x5421
	soError        = 4
	solSocketLevel = 1
)

var (
	amd64 = arch{name: "amd64", audit: 0xc000003e, x32: 0x40000000, number: func(n nrs) int { return n.amd64 }}
	arm64 = arch{name: "arm64", audit: 0xc00000b7, number: func(n nrs) int { return n.arm64 }}

	arches = map[string]*arch{"amd64": numbered(&amd64), "arm64": numbered(&arm64)}
)

// numbered fills in a's numbers from the table (in the variables'
// initialization, which follows their dependencies, so that any other
// variable made from arches sees them).
func numbered(a *arch) *arch {
	a.nr = map[call]uint32{}
	for i := range table {
		c := &table[i]
		if n := a.number(c.nr); n >= 0 {
			a.nr[c], a.calls[n] = uint32(n), c
		}
	}
	return a
}

// callOf returns the call with number nr, or nil.
func (a *arch) callOf(nr uint64) call {
	if nr >= maxNr {
		return nil
	}
	return a.calls[nr]
}
