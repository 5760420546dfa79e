package ptrace

// call names a system call socklab trace shows, the same on every
// architecture; each architecture numbers them differently (arches).
type call uint8

const (
	callNone call = iota
	callSocket
	callBind
	callListen
	callAccept
	callAccept4
	callConnect
	callRead
	callReadv
	callRecvfrom
	callRecvmsg
	callRecvmmsg
	callWrite
	callWritev
	callSendto
	callSendmsg
	callSendmmsg
	callShutdown
	callClose
	callGetsockname
	callSetsockopt
	callFcntl
	numCalls
)

var callNames = [numCalls]string{
	callSocket: "socket", callBind: "bind", callListen: "listen", callAccept: "accept",
	callAccept4: "accept4", callConnect: "connect", callRead: "read", callReadv: "readv",
	callRecvfrom: "recvfrom", callRecvmsg: "recvmsg", callRecvmmsg: "recvmmsg",
	callWrite: "write", callWritev: "writev", callSendto: "sendto", callSendmsg: "sendmsg",
	callSendmmsg: "sendmmsg", callShutdown: "shutdown", callClose: "close",
	callGetsockname: "getsockname", callSetsockopt: "setsockopt", callFcntl: "fcntl",
}

func (c call) String() string { return callNames[c] }

// onFD reports whether the call's first argument is a descriptor that may
// or may not be a socket: such calls are shown only when it is one, as the
// kernel says at the call (/proc/PID/fd/N).
func (c call) onFD() bool { return c != callSocket && c != callNone }

// An arch is one architecture's numbering of the calls, and the value
// seccomp gives it in seccomp_data.arch (AUDIT_ARCH_*).
type arch struct {
	name  string
	audit uint32
	// x32 marks the x32 ABI's calls on amd64 (nr | 0x40000000): 32-bit
	// programs, which the filter lets through untraced.
	x32 uint32
	nr  map[call]uint32
	// calls is nr turned around, for the tracer's lookups at each stop.
	calls [maxNr]call
}

// maxNr bounds the numbers of the traced calls on every architecture.
const maxNr = 512

func init() {
	for _, a := range arches {
		for c, n := range a.nr {
			a.calls[n] = c
		}
	}
}

// fSetfl is fcntl's F_SETFL: only that command is traced (it is how a
// program makes a socket non-blocking); F_GETFL and the rest pass.
const fSetfl = 4

// Measured from the kernel's syscall tables (arch/x86/entry/syscalls/
// syscall_64.tbl, include/uapi/asm-generic/unistd.h for arm64), as
// golang.org/x/sys/unix has them.
var (
	amd64 = arch{name: "amd64", audit: 0xc000003e, x32: 0x40000000, nr: map[call]uint32{
		callRead: 0, callWrite: 1, callClose: 3, callReadv: 19, callWritev: 20,
		callSocket: 41, callConnect: 42, callAccept: 43, callSendto: 44, callRecvfrom: 45,
		callSendmsg: 46, callRecvmsg: 47, callShutdown: 48, callBind: 49, callListen: 50,
		callGetsockname: 51, callSetsockopt: 54, callFcntl: 72, callAccept4: 288,
		callRecvmmsg: 299, callSendmmsg: 307,
	}}
	arm64 = arch{name: "arm64", audit: 0xc00000b7, nr: map[call]uint32{
		callFcntl: 25, callClose: 57, callRead: 63, callWrite: 64, callReadv: 65, callWritev: 66,
		callSocket: 198, callBind: 200, callListen: 201, callAccept: 202, callConnect: 203,
		callGetsockname: 204, callSendto: 206, callRecvfrom: 207, callSetsockopt: 208,
		callShutdown: 210, callSendmsg: 211, callRecvmsg: 212, callAccept4: 242,
		callRecvmmsg: 243, callSendmmsg: 269,
	}}
	arches = map[string]*arch{"amd64": &amd64, "arm64": &arm64}
)

// callOf returns the call with number nr, or callNone.
func (a *arch) callOf(nr uint64) call {
	if nr >= maxNr {
		return callNone
	}
	return a.calls[nr]
}
