package trace

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"time"
)

// Op is the lifecycle operation a traced call performs.
type Op string

// The operations. Each is one real syscall; [Event.Syscall] names the call
// actually made on this system (for example accept4 for OpAccept on Linux).
const (
	OpCreate      Op = "create"
	OpBind        Op = "bind"
	OpListen      Op = "listen"
	OpAccept      Op = "accept"
	OpConnect     Op = "connect"
	OpWrite       Op = "write"
	OpRead        Op = "read"
	OpShutdown    Op = "shutdown"
	OpClose       Op = "close"
	OpGetsockname Op = "getsockname"
	OpSetsockopt  Op = "setsockopt"
	OpSendto      Op = "sendto"   // a datagram out (step 9, like write)
	OpRecvfrom    Op = "recvfrom" // a datagram in (step 10, like read)
	// OpFcntl changes the descriptor's flags: fcntl(F_SETFL, O_NONBLOCK)
	// makes it non-blocking, as Go's net package does with every socket.
	OpFcntl Op = "fcntl"
	// OpPoll waits until descriptors are ready: poll, ppoll, select,
	// pselect6, epoll_wait, epoll_pwait, epoll_pwait2 ([Event.Waits] says
	// for what). It is where a non-blocking program really waits.
	OpPoll Op = "poll"
	// OpEpollCreate makes an epoll instance (a descriptor standing for a
	// set of descriptors to wait on); OpEpollCtl adds one to the set,
	// changes what it is watched for, or removes it.
	OpEpollCreate Op = "epoll_create"
	OpEpollCtl    Op = "epoll_ctl"
	// OpIoctl is an ioctl on a socket: FIONBIO, which Python's settimeout
	// and setblocking use to make a socket non-blocking or blocking again.
	OpIoctl Op = "ioctl"
	// OpGetsockopt reads a socket option: SO_ERROR, which a non-blocking
	// connect's program asks to learn whether the handshake succeeded.
	OpGetsockopt Op = "getsockopt"
	// OpPacket is not a call but a packet on the wire (the wire view):
	// its event has no phase, and [Event.Packet] says what it carried.
	OpPacket Op = "packet"
)

// Blocks reports whether a call of this operation routinely waits for the
// other peer, so that its Begin event is worth showing on its own.
func (op Op) Blocks() bool {
	return op == OpAccept || op == OpConnect || op == OpRead || op == OpRecvfrom || op == OpPoll
}

// Phase says whether an event was recorded before or after the syscall.
type Phase string

const (
	// Begin is recorded just before the syscall is issued.
	Begin Phase = "begin"
	// End is recorded just after the syscall returned.
	End Phase = "end"
)

// Role is the part a peer plays in the lesson plan; it decides step numbers.
type Role string

const (
	Server Role = "server"
	Client Role = "client"
)

// Event is one traced moment: the Begin or the End of one real syscall.
//
// Event is a value. The Data slice aliases the caller's buffer and is valid
// only during [Sink.Handle]; a sink that keeps events must copy it (as
// [Recorder] does).
type Event struct {
	Seq   uint64        // position in the trace, one counter across all peers, from 1
	Time  time.Duration // since the trace started
	Peer  string        // "server", "client", "client-2", …
	Role  Role          // the peer's role in the lesson plan
	Op    Op
	Phase Phase
	// Step is the lesson-plan step number (1–11), or 0 when the call is not
	// one of the eleven steps (getsockname, shutdown, a client's bind, …).
	Step    int
	Syscall string // the real call: "socket", "accept4", "read", …
	// Kind is the socket's kind: "tcp", "udp" or "unix" ("" when unknown,
	// as in the gonet lesson). Explanations depend on it.
	Kind string
	// FD is the descriptor the call operates on, or -1 when there is none
	// yet (the Begin of create).
	FD int
	// Arg is the call's other argument as strace would show it:
	// "AF_INET, SOCK_STREAM, 0" for create, the backlog for listen, the
	// buffer's size for read, the bytes offered for write, the direction for
	// shutdown.
	Arg string
	// The meaning of the call's arguments, typed (Arg only displays them):
	// Offered is, on a write or sendto, the bytes offered, and on a read
	// or recvfrom, the buffer's size; Option names the option a
	// setsockopt sets ("SO_REUSEADDR"); Command is the call's command:
	// fcntl's ("F_SETFL", "F_DUPFD_CLOEXEC"), ioctl's ("FIONBIO"),
	// epoll_ctl's ("EPOLL_CTL_ADD"), shutdown's direction ("SHUT_WR");
	// Abort marks a close that resets the connection (SO_LINGER 0 was
	// set: it sends RST, not FIN).
	Offered int
	Option  string
	Command string
	Abort   bool
	// Value is the value a getsockopt read (SO_ERROR's pending error: 0
	// when a non-blocking connect succeeded, else an errno) or an ioctl
	// set (FIONBIO: 1 non-blocking, 0 blocking).
	Value int
	// Waits are, on a poll (OpPoll), the descriptors it waits on and for
	// what (Begin) and those that became ready (End); on an epoll_ctl,
	// the one descriptor added, changed or removed. Like Data, the slice
	// is the caller's, valid only during Handle.
	Waits []Wait
	// Timeout is a poll's: how long it may wait (negative: for ever; 0:
	// it only looks, and Nonblock is set too).
	Timeout time.Duration
	// Queued is, on the Begin of an accept or a read, what the kernel
	// already holds for it, when QueueKnown says it was asked: the
	// connections completed and waiting in the listener's accept queue
	// (TCP_INFO's tcpi_unacked), or the bytes waiting to be read
	// (SIOCINQ). So the line can say whether the call will wait.
	Queued     int
	QueueKnown bool
	// Connected marks the End of the call through which a program whose
	// connect was non-blocking learned that the handshake was done (its
	// getsockopt(SO_ERROR) = 0): step 7, where it really happens.
	Connected bool
	Local     string // local address when known
	Remote    string // peer address when known
	// Ret is the syscall's result on End: the new descriptor for create and
	// accept, the byte count for read and write, 0 for success, -1 on error.
	Ret int
	// N is a byte count: on Begin the bytes offered (write) or the buffer
	// size (read); on End the bytes transferred.
	N int
	// Data holds the bytes written (on write Begin and End) or read (on read
	// End). It aliases the caller's buffer; see the type's doc.
	Data    []byte
	Err     error         // the error the syscall returned, on End
	Errno   string        // the errno's name, like "ECONNREFUSED", on End
	Elapsed time.Duration // on End: how long the syscall took (blocked)
	// Interrupt, on End, says why the call was woken when socklab itself
	// shut the socket down to interrupt it, as a short code: "SIGINT",
	// "SIGTERM", "connect-timeout", "close-wait", "peer-failed",
	// "deadline", "canceled" (see sock.Reason). Err is then whatever the
	// kernel returned for that (EINVAL from accept, none from a read that
	// returned 0).
	Interrupt string
	// Nonblock says the descriptor is non-blocking (O_NONBLOCK): accept,
	// read and write never wait but fail with EAGAIN, and the caller waits
	// elsewhere (Go parks the goroutine on the runtime's poller) before it
	// tries again. Explanations depend on it.
	Nonblock bool
	// Signal, on End, names the signal that interrupted the call, when an
	// observer saw it (socklab trace sees the kernel's ERESTARTSYS and the
	// signal pending): "SIGINT". Errno is then EINTR, what the program sees.
	Signal string
	// PID is the process that made the call, when socklab traces another
	// program (socklab trace); 0 for socklab's own lessons.
	PID int
	// Copies, on a close, counts the other descriptors of the same socket
	// still open (a forking server's child holds one): such a close only
	// drops this process's copy, so it is not step 11 and the connection
	// lives on. 0 when unknown or none.
	Copies int

	// Kernel is the kernel's view of the socket, on End, when the tracer
	// asks for it (Tracer.SetKernelState); its zero value when it did not.
	Kernel KernelView

	// Source is the line of the program's source that made the call,
	// when the tracer learns it (socklab trace of a Python program: see
	// trace/ptrace's sitecustomize); its zero value when it does not.
	Source Source

	// Packet is what the packet carried, in an event of op OpPacket: one
	// packet the kernel sent on loopback, stamped by the kernel as it went
	// out (Time is that stamp). Peer and Role are its sender's, when the
	// trace knows whose socket has its source address; Data and N are its
	// payload.
	Packet *Packet
}

// Source is a line of a traced program's source: the line that made a
// call. File is the file's name as the program gave it, Line its number
// (from 1), Text the line's code, trimmed.
type Source struct {
	File string
	Line int
	Text string
}

// String is the line as a trace shows it: "server.py:12  conn, address = s.accept()".
func (s Source) String() string {
	if s.File == "" {
		return ""
	}
	return filepath.Base(s.File) + ":" + strconv.Itoa(s.Line) + "  " + s.Text
}

// KernelView is what the kernel said of a socket at the end of a call: one
// observation, made with extra syscalls, never a step of its own.
type KernelView struct {
	// State is the socket's TCP state after the call ("LISTEN",
	// "ESTABLISHED", "CLOSE_WAIT"); after close, what the kernel's table
	// still holds for the connection ("FIN_WAIT2", "TIME_WAIT", "CLOSED"
	// once gone). Timer is the time left on its timer (how long TIME_WAIT
	// has to go).
	State string
	Timer time.Duration
	// PeerState and PeerTimer are the same for the connection's other
	// end, after close, when that end is on this machine too.
	PeerState string
	PeerTimer time.Duration
	// From names where the view came from: "TCP_INFO" (the socket itself,
	// getsockopt), "sock_diag" (the kernel's answer for one connection,
	// over netlink), or "/proc/net/tcp" (its whole table, read where
	// sock_diag is refused, or when SOCKLAB_KERNEL_VIEW=table asks).
	From string
}

// A Packet is one TCP segment or UDP datagram on the wire. Its JSON form
// (packetJSON) is the "packet" object of the trace format
// (docs/trace-format.md).
type Packet struct {
	Proto string // "tcp" or "udp"
	// From and To are its source and destination addresses; ToPeer is the
	// peer whose socket has To, when the trace knows it.
	From   string
	To     string
	ToPeer string
	// Flags are the TCP flags, as a class names them: "SYN", "SYN-ACK",
	// "ACK", "PSH-ACK", "FIN-ACK", "RST", "RST-ACK"; "" for UDP.
	Flags string
	// Seq and Ack are relative, as Wireshark shows them: counted from the
	// first sequence number each direction sent (its SYN's), so that the
	// first byte of data is 1. Ack is 0 when the ACK flag is off.
	Seq uint32
	Ack uint32
	// Window is the receive window it advertises, in bytes: scaled by the
	// window scale its sender announced in the handshake (a SYN's own
	// window is never scaled).
	Window int
	// The options a handshake announces, when this packet has them: the
	// largest segment the sender takes (MSS, -1 when absent), its window
	// scale (WScale, -1 when absent) and whether it can acknowledge
	// selectively (SACK). JSON leaves out what is absent (see
	// MarshalJSON).
	MSS    int
	WScale int
	SACK   bool

	// Frame is the whole frame as the capture read it (Ethernet, as
	// loopback carries it), and Sent the kernel's stamp of it (wall
	// time): what a pcapng file holds. Neither is in the JSON trace.
	Frame []byte
	Sent  time.Time
}

// Label names the packet in one word: its TCP flags, or UDP.
func (p *Packet) Label() string {
	if p.Proto == "udp" {
		return "UDP"
	}
	return p.Flags
}

// EOF reports whether the event is a read that returned 0: the peer closed
// its side of the connection.
func (e *Event) EOF() bool {
	return e.Op == OpRead && e.Phase == End && e.Err == nil && e.Ret == 0 && e.N == 0 && e.Interrupt == ""
}

// StepInfo describes one step of the 11-step lesson plan.
type StepInfo struct {
	Num  int
	Role Role   // "" for steps both peers take
	Op   Op     // the operation
	Call string // the real call, as the lesson plan names it
	What string // what happens (English; the catalogue has it in every language)
	// The same step in code: Python's socket module, Go with
	// golang.org/x/sys/unix (what socklab does), and Go's net package.
	// "↑ call" marks a step that happens inside the call of a step above.
	Python, Go, GoNet string
	// Man is the manual page to read, as man(1) names it.
	Man string
}

// Steps is the lesson plan: the 11 steps of a TCP exchange.
var Steps = []StepInfo{
	{1, Server, OpCreate, "socket()", "the server gets a file descriptor for a new socket",
		"s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
		"fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)",
		`ln, err := net.Listen("tcp", "127.0.0.1:1234")`, "socket(2)"},
	{2, Server, OpBind, "bind()", "the server claims an address and port",
		`s.bind(("127.0.0.1", 1234))`,
		"err = unix.Bind(fd, &unix.SockaddrInet4{Port: 1234, Addr: [4]byte{127, 0, 0, 1}})",
		"↑ net.Listen", "bind(2)"},
	{3, Server, OpListen, "listen()", "the kernel now answers handshakes for it (LISTEN)",
		"s.listen()",
		"err = unix.Listen(fd, 128)",
		"↑ net.Listen", "listen(2)"},
	{4, Client, OpCreate, "socket()", "the client gets a descriptor of its own",
		"c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
		"cfd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0)",
		`conn, err := net.Dial("tcp", "127.0.0.1:1234")`, "socket(2)"},
	{5, Client, OpConnect, "connect() starts", "the client sends SYN; the call blocks",
		`c.connect(("127.0.0.1", 1234))`,
		"err = unix.Connect(cfd, &unix.SockaddrInet4{Port: 1234, Addr: [4]byte{127, 0, 0, 1}})",
		"↑ net.Dial", "connect(2)"},
	{6, Server, OpAccept, "accept() waits", "blocks until a connection is ready",
		"conn, addr = s.accept()",
		"nfd, sa, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)",
		"conn, err := ln.Accept()", "accept(2)"},
	{7, Client, OpConnect, "connect() returns", "handshake done, ESTABLISHED; ephemeral port chosen",
		"↑ c.connect()", "↑ unix.Connect", "↑ net.Dial", "connect(2)"},
	{8, Server, OpAccept, "accept() returns", "a NEW descriptor for this client; the listener keeps listening",
		"↑ s.accept()", "↑ unix.Accept4", "↑ ln.Accept()", "accept(2)"},
	{9, "", OpWrite, "write()", "bytes handed to the kernel, not yet read",
		"c.sendall(data)", "n, err := unix.Write(cfd, data)", "n, err := conn.Write(data)", "write(2)"},
	{10, "", OpRead, "read()", "blocks until bytes arrive; 0 means the peer closed",
		"data = conn.recv(1024).decode('utf-8')", "n, err := unix.Read(nfd, buf)", "n, err := conn.Read(buf)", "read(2)"},
	{11, "", OpClose, "close()", "FIN; the side that closes first waits in TIME_WAIT",
		"c.close()", "err = unix.Close(cfd)", "conn.Close()", "close(2)"},
}

// StepOf returns the lesson-plan step of a call, or 0 when the call is not
// one of the eleven steps. failed tells whether the call returned an error:
// a connect that fails is still step 5 (it never got to 7), an accept that
// fails is still step 6.
func StepOf(role Role, op Op, phase Phase, failed bool) int {
	switch op {
	case OpWrite, OpSendto:
		return 9
	case OpRead, OpRecvfrom:
		return 10
	case OpClose:
		return 11
	}
	switch role {
	case Server:
		switch op {
		case OpCreate:
			return 1
		case OpBind:
			return 2
		case OpListen:
			return 3
		case OpAccept:
			if phase == End && !failed {
				return 8
			}
			return 6
		}
	case Client:
		switch op {
		case OpCreate:
			return 4
		case OpConnect:
			if phase == End && !failed {
				return 7
			}
			return 5
		}
	}
	return 0
}

// packetJSON is a Packet's JSON form: the handshake's options only when
// the packet has them.
type packetJSON struct {
	Proto  string `json:"proto"`
	From   string `json:"from"`
	To     string `json:"to"`
	ToPeer string `json:"to_peer,omitempty"`
	Flags  string `json:"flags,omitempty"`
	Seq    uint32 `json:"seq"`
	Ack    uint32 `json:"ack"`
	Window int    `json:"win"`
	MSS    *int   `json:"mss,omitempty"`
	WScale *int   `json:"wscale,omitempty"`
	SACK   bool   `json:"sack,omitempty"`
}

// MarshalJSON leaves out the options a packet does not carry (absent, not
// -1).
func (p Packet) MarshalJSON() ([]byte, error) {
	j := packetJSON{Proto: p.Proto, From: p.From, To: p.To, ToPeer: p.ToPeer, Flags: p.Flags,
		Seq: p.Seq, Ack: p.Ack, Window: p.Window, SACK: p.SACK}
	if p.MSS >= 0 {
		j.MSS = &p.MSS
	}
	if p.WScale >= 0 {
		j.WScale = &p.WScale
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes: an absent option is -1.
func (p *Packet) UnmarshalJSON(b []byte) error {
	var j packetJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*p = Packet{Proto: j.Proto, From: j.From, To: j.To, ToPeer: j.ToPeer, Flags: j.Flags,
		Seq: j.Seq, Ack: j.Ack, Window: j.Window, SACK: j.SACK, MSS: -1, WScale: -1}
	if j.MSS != nil {
		p.MSS = *j.MSS
	}
	if j.WScale != nil {
		p.WScale = *j.WScale
	}
	return nil
}
