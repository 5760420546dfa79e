package ptrace

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/socklab/socklab/trace"
)

// The model turns the calls another program makes into the project's own
// trace.Events: which process plays which role, which socket is part of the
// lesson and which is startup noise, what each call's step and arguments
// are. It names no call: what each call is, shows and implies is the
// table's (syscalls.go), its arguments decoded as their formats say
// (args.go). It is the part of the tracer with no ptrace in it (the
// tracing thread, stops_linux.go, feeds it), so that its rules are
// tested with calls made up in a test (model_test.go).

// kernel is what the model asks the system about a traced program's
// descriptors. The tracer's answers come from /proc and from duplicates of
// the descriptors (pidfd_getfd); a test gives its own.
type kernel interface {
	// inode returns the socket inode descriptor fd of process pid refers
	// to, or false when fd is not a socket: decided at each call, from the
	// kernel, so that dup2, SCM_RIGHTS and inheritance cannot fool it.
	inode(pid, fd int) (uint64, bool)
	// facts returns what the kernel says of the socket: its family and
	// type, addresses, whether it listens or is non-blocking and, with
	// state, its TCP state.
	facts(pid, fd int, state bool) facts
	// copies counts the descriptors, in every traced process, that refer
	// to the socket ino, other than pid's fd.
	copies(ino uint64, pid, fd int) int
	// closed fills in e what the kernel's table holds for the connection
	// local–remote after its last descriptor was closed.
	closed(e *trace.Event, v6 bool)
	// errnoName returns the name of errno n: "ECONNREFUSED".
	errnoName(n int) string
	// queued returns what the kernel holds for the socket now: a
	// listener's accept queue (TCP_INFO's tcpi_unacked), or the bytes
	// waiting to be read (SIOCINQ); false when it cannot say.
	queued(pid, fd int, listening bool) (int, bool)
}

// facts are what the kernel says of one socket.
type facts struct {
	ok            bool
	family, typ   int
	local, remote string
	listening     bool
	nonblock      bool
	state         string        // TCP state, when asked for
	timer         time.Duration // on its timer, when the table was read
	stateFrom     string        // where state came from (trace.Event.Kernel.From)
}

// noteState records the kernel's view in e.
func (f facts) noteState(e *trace.Event) {
	e.Kernel.State, e.Kernel.Timer, e.Kernel.From = f.state, f.timer, f.stateFrom
}

// memory reads the traced program's memory.
type memory interface {
	read(pid int, addr uint64, b []byte) (int, error)
}

// A process is one traced process (a thread group).
type process struct {
	pid int
	// hint is the role the user gave the program (--server, --client):
	// the sockets the process makes are that role's from socket() on.
	// Without one, a socket's role is learned from what it does. A child
	// process gets no hint: a forked client of a server is told apart by
	// what it does.
	hint trace.Role
	// peers are the process's trace peers, one per role its sockets play
	// (a forking server's child closing its copy of the listener is a
	// server, even when it goes on to connect somewhere as a client).
	peers  map[trace.Role]*trace.Peer
	parent *process
	// program is the index of the program socklab started that this
	// process belongs to (a child of a forking server belongs to the
	// server's).
	program int
	shown   int // events shown for it
}

// sockState says whether a socket is shown.
type sockState uint8

const (
	// held: its role is not known yet (socket and bind come before
	// listen or connect say what it is for); its calls are kept and shown
	// once it is, or dropped as noise.
	held sockState = iota
	shown
	noise
)

// A socket is one socket (one inode) a traced program has.
type socket struct {
	ino         uint64
	family, typ int
	kind        string
	state       sockState
	role        trace.Role // once known
	held        []heldCall
	local       string
	remote      string
	nonblock    bool
	listening   bool
	// connecting: its connect returned EINPROGRESS, and the program has
	// not learned yet how the handshake ended (see learnedConnect).
	connecting bool
	// bound: a datagram socket bound to a port of its own (not 0): if it
	// receives before it sends, it is a server's.
	bound bool
	owner *process
}

// A heldCall is a call made on a held socket, kept until the socket's role
// is known.
type heldCall struct {
	p          *process
	peer       *trace.Peer // once released
	begin, end trace.Event
	elapsed    time.Duration
}

// A pending call is one call between its entry and its exit.
type pending struct {
	p       *process
	c       call
	args    [6]uint64
	sock    *socket
	e       trace.Event // the Begin, then the End
	begin   trace.Event // the Begin as emitted (for a held call)
	show    bool        // emitted as it happens
	v6      bool
	resumed time.Time // when the call went on into the kernel
	// A wait's (waits.go): the descriptors it waits on, and the epoll
	// set's data words, each its descriptor's; look: a timeout of 0,
	// shown only when something was ready.
	waits  []trace.Wait
	byData map[uint64]int
	look   bool
	ctl    epollEntry // an epoll_ctl's change, made at its exit
}

// model is the state of one trace.
type model struct {
	tr  *trace.Tracer
	k   kernel
	mem memory
	all bool // show every socket, noise included
	// kernelState asks for the kernel's view (Event.State), as
	// trace.Tracer.SetKernelState does for the lessons.
	kernelState bool
	procs       map[int]*process
	socks       map[uint64]*socket
	names       map[trace.Role]int // peers named so far per role
	shown       map[int]int        // events shown per launched program
	acted       map[int]int        // calls begun per launched program, waits left out
	dataCap     int
	// probing holds the TCP sockets of a process whose role is known too
	// (firstState), so that start-up probes are hidden.
	probing bool
	// paced leaves the held calls a decision releases in released, for
	// the tracer to show through the gate (a person paces the run).
	paced    bool
	released []heldCall
	// listened is called when a server is ready for its clients: its
	// listen returned, or it bound a datagram socket (UDP has no listen).
	listened func(p *process)
	// epolls are the epoll sets each process made, by descriptor
	// (waits.go); epollEventSize is sizeof(struct epoll_event), packed
	// on amd64 (12 bytes), 16 on arm64.
	epolls         map[int]map[int]*epollSet
	epollEventSize int
	// verifyNonblock, set by tests, is handed at each socket call what
	// the model holds of the socket's O_NONBLOCK: the model follows it
	// through the calls that change it (SOCK_NONBLOCK, accept4's flags,
	// fcntl F_SETFL, ioctl FIONBIO, all stopped by the filter) rather
	// than read /proc/PID/fdinfo at every call (8.6 µs here, most of a
	// stop's cost again); the tests compare it with fdinfo.
	verifyNonblock func(pid, fd int, nonblock bool)
}

// dataLimit bounds the bytes an event keeps of a write or read: as much as
// any view shows, without copying a program's megabytes.
const dataLimit = 64 << 10

func newModel(tr *trace.Tracer, k kernel, mem memory, all, kernelState bool) *model {
	return &model{tr: tr, k: k, mem: mem, all: all, kernelState: kernelState, procs: map[int]*process{}, socks: map[uint64]*socket{},
		names: map[trace.Role]int{}, shown: map[int]int{}, acted: map[int]int{}, dataCap: dataLimit, epolls: map[int]map[int]*epollSet{}, epollEventSize: 12}
}

// peerOf returns p's trace peer for role, naming it on first use:
// "server", then "server-2" for a second server process (a forking
// server's child), "client", "client-2", …; a socket whose role is not
// known (shown with --all) is "pid 1234"'s.
func (m *model) peerOf(p *process, role trace.Role) *trace.Peer {
	if peer := p.peers[role]; peer != nil {
		return peer
	}
	var name string
	if role == "" {
		name = "pid " + strconv.Itoa(p.pid)
	} else {
		m.names[role]++
		name = string(role)
		if n := m.names[role]; n > 1 {
			name += "-" + strconv.Itoa(n)
		}
	}
	peer := m.tr.Peer(name, role)
	p.peers[role] = peer
	return peer
}

// forked records a new process, child of parent (nil for a program
// socklab started); it plays its parent's role.
func (m *model) forked(pid int, parent *process, program int, role trace.Role) *process {
	p := &process{pid: pid, parent: parent, program: program, hint: role, peers: map[trace.Role]*trace.Peer{}}
	if parent != nil {
		p.hint, p.program = "", parent.program
	}
	m.procs[pid] = p
	return p
}

// exited forgets process pid.
func (m *model) exited(pid int) {
	if p := m.procs[pid]; p != nil {
		for _, peer := range p.peers {
			peer.Done()
		}
		delete(m.procs, pid)
		delete(m.epolls, pid)
	}
}

// enter is a call's entry stop: it returns the pending call when the
// tracer should see the call's exit too, and nil when the call is none of
// the lesson's (a read of a file, a socket of startup noise) and runs on
// untraced.
func (m *model) enter(p *process, c call, args [6]uint64) *pending {
	pc := &pending{p: p, c: c, args: args}
	e := &pc.e
	e.Syscall, e.PID, e.FD = c.String(), p.pid, -1
	if c.wait {
		return m.enterWait(pc)
	}
	for i, f := range c.args {
		if f == solSocket && uint32(args[i]) != solSocketLevel {
			return nil // getsockopt of another level: none of the lesson's
		}
	}
	if c.does == creates {
		family, typ, proto := int(args[0]), int(args[1]), int(args[2])
		e.Op, e.Kind, e.Arg = c.op, kindOf(family, typ), socketArgs(family, typ, proto)
		pc.sock = &socket{family: family, typ: typ, kind: e.Kind, owner: p, nonblock: typ&sockNonblock != 0}
		pc.sock.state = m.firstState(p, family, typ, proto)
		if pc.sock.state == shown {
			pc.sock.role = p.hint
		}
		pc.show = pc.sock.state == shown
		pc.v6 = family == afInet6
		return pc
	}
	fd := int(int32(args[c.fdArg()]))
	ino, ok := m.k.inode(p.pid, fd)
	if !ok {
		return nil // not a socket
	}
	s := m.socks[ino]
	if s == nil {
		s = m.adopt(p, fd, ino)
	}
	pc.sock, pc.v6 = s, s.family == afInet6
	e.FD, e.Kind, e.Local, e.Remote, e.Nonblock = fd, s.kind, s.local, s.remote, s.nonblock
	if m.verifyNonblock != nil {
		m.verifyNonblock(p.pid, fd, s.nonblock)
	}
	e.Op = c.op
	if c.dgram != "" && s.kind == "udp" {
		e.Op = c.dgram
	}
	m.decodeEntry(pc)
	if s.state == held || m.all && s.role == "" {
		m.decide(pc) // with --all shown at once, the role is still learned
	}
	switch {
	case s.state == noise && !m.all:
		if c.does == closes {
			delete(m.socks, ino)
		}
		return nil
	case s.state == held:
		if c.does == closes { // closed before it said what it was for: noise
			s.held = nil
			delete(m.socks, ino)
			return nil
		}
		return pc // kept: its exit completes the held call
	}
	pc.show = true
	m.noteQueue(pc)
	if c.does == closes {
		e.Copies = m.k.copies(ino, p.pid, fd)
		if e.Copies == 0 {
			m.forget(p, fd) // the kernel drops a file from its epoll sets with its last descriptor
		}
		if e.Copies == 0 && s.kind == "tcp" && m.kernelState {
			// The addresses to look the connection up by after the close
			// (the descriptor, and its duplicate, are gone by then).
			// What the socket remembers stays when the kernel no longer
			// says (a reset connection has no peer name).
			f := m.k.facts(p.pid, fd, false)
			e.Local, e.Remote = cmp.Or(f.local, e.Local), cmp.Or(f.remote, e.Remote)
		}
	}
	return pc
}

// firstState decides, at socket(), whether a new socket is shown at once:
// a TCP socket of a process whose role is known (given on the command
// line, or learned from an earlier listen or connect) is. The rest waits
// for what it is used for: startup noise (glibc's nscd lookup over a Unix
// socket, a DNS query, a netlink request) never names a role.
//
// With probing, a role given on the command line does not show a TCP
// socket at once either: Go's and Java's start-up probes (an IPv6 socket
// bound to [::1]:0 and closed, an MPTCP or IPPROTO_TCP socket made and
// closed) would be the program's first steps. The socket is shown once it
// binds a port of its own, listens, connects or accepts (decide), its
// earlier calls with it; a probe, closed before, is dropped as noise.
func (m *model) firstState(p *process, family, typ, proto int) sockState {
	const ipprotoMPTCP = 262 // Go's probe of MPTCP support
	switch {
	case m.all:
		return shown
	case family != afInet && family != afInet6 && family != afUnix:
		return noise
	case p.hint != "" && kindOf(family, typ) == "tcp" && proto != ipprotoMPTCP && !m.probing:
		return shown
	}
	return held
}

// adopt makes a socket the model has not seen created (inherited, passed
// over a Unix socket, or made before tracing began) known, from what the
// kernel says of it.
func (m *model) adopt(p *process, fd int, ino uint64) *socket {
	f := m.k.facts(p.pid, fd, false)
	s := &socket{ino: ino, family: f.family, typ: f.typ, kind: kindOf(f.family, f.typ), owner: p,
		local: f.local, remote: f.remote, nonblock: f.nonblock, state: held}
	switch {
	case f.listening:
		s.state, s.role = shown, trace.Server
	case p.hint != "" && s.kind == "tcp" && f.remote != "":
		s.state, s.role = shown, p.hint
	case m.all:
		s.state = shown
	case s.kind == "":
		s.state = noise
	}
	m.socks[ino] = s
	return s
}

// decide settles, at a call on a held socket, whether the socket is part
// of the lesson: a listen makes it the server's, a connect (to anything but
// glibc's name service cache or a DNS server) the client's. Once it is,
// the calls held so far are shown, before this one.
func (m *model) decide(pc *pending) {
	s, e := pc.sock, &pc.e
	var role trace.Role
	switch pc.c.role {
	case asServer:
		role = trace.Server
	case asClient:
		if isNameService(e.Remote) {
			s.state, s.held = noise, nil
			return
		}
		role = trace.Client
	case asServerIfDatagram:
		// A datagram server given as --server says what it is when it
		// binds: it has no listen to say it. A process given a role says
		// a socket is the lesson's when it binds a port of its own (a
		// probe binds port 0).
		switch {
		case pc.p.hint == trace.Server && s.kind == "udp":
			role = trace.Server
		case m.probing && pc.p.hint != "" && e.Local != "" && !strings.HasSuffix(e.Local, ":0"):
			role = pc.p.hint
		default:
			return
		}
	case asClientIfAddressed:
		if e.Remote == "" || isNameService(e.Remote) {
			return
		}
		role = trace.Client
	default:
		// The process that binds a port and receives first is a datagram
		// server (UDP has no listen to say it): its socket, bind and
		// receive are shown before the sender's send.
		if e.Op != trace.OpRecvfrom || s.kind != "udp" || !s.bound {
			return
		}
		role = trace.Server
	}
	if s.kind == "" {
		return
	}
	if pc.p.hint != "" {
		role = pc.p.hint // the user said
	}
	s.state, s.role = shown, role
	m.release(s)
}

// isNameService reports whether a connect to addr is a lookup of a name
// (glibc's nscd, systemd-resolved's varlink socket, DNS), not a lesson's
// connection.
func isNameService(addr string) bool {
	switch addr {
	case "/var/run/nscd/socket", "/run/nscd/socket", "/run/systemd/resolve/io.systemd.Resolve":
		return true
	}
	if i := lastColon(addr); i >= 0 && addr[i+1:] == "53" {
		return true
	}
	return false
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

// release shows the calls held on s, in the order they were made; with
// paced, it leaves them in m.released for the tracer to show at a
// person's pace (each is a step the class should see).
func (m *model) release(s *socket) {
	for i := range s.held {
		h := &s.held[i]
		h.peer = m.peerOf(h.p, s.role)
		if m.paced {
			m.released = append(m.released, *h)
			continue
		}
		m.showHeld(h)
	}
	s.held = nil
}

// showHeld shows a held call whose socket's role is now known.
func (m *model) showHeld(h *heldCall) {
	h.peer.Begin(&h.begin)
	h.peer.EndMeasured(&h.end, h.elapsed)
	h.p.shown++
	m.shown[h.p.program]++
}

// takeReleased returns the held calls release left for the tracer.
func (m *model) takeReleased() []heldCall {
	r := m.released
	m.released = nil
	return r
}

// begin emits the Begin of a shown call; the caller has asked the gate.
func (m *model) begin(pc *pending) {
	if !pc.show {
		return
	}
	m.peerOf(pc.p, pc.sock.role).Begin(&pc.e)
	pc.p.shown++
	m.shown[pc.p.program]++
	if pc.e.Op != trace.OpPoll {
		m.acted[pc.p.program]++
	}
}

// exit is a call's exit stop: ret is what the kernel returned (a negative
// errno on failure), signal the signal pending when it was interrupted.
func (m *model) exit(pc *pending, ret int64, signal string, elapsed time.Duration) {
	begin := pc.e
	e := &pc.e
	e.Ret = int(ret)
	if ret < 0 {
		e.Ret = -1
		n := int(-ret)
		switch n {
		case 512, 513, 514, 516: // ERESTARTSYS and friends: a signal came
			e.Errno, e.Signal = "EINTR", signal
			e.Err = fmt.Errorf("interrupted by %s", signal)
		default:
			e.Errno = m.k.errnoName(n)
			e.Err = errnoError(e.Errno)
		}
	}
	if pc.c.wait {
		m.exitWait(pc, ret, elapsed)
		return
	}
	s := pc.sock
	ok := ret >= 0
	switch pc.c.does {
	case creates:
		if ok {
			e.FD = int(ret)
			ino, _ := m.k.inode(pc.p.pid, e.FD)
			s.ino = ino
			m.socks[ino] = s
		}
	case accepts:
		if ok {
			m.accepted(pc, int(ret))
		}
	case connects:
		if ok || e.Errno == "EINPROGRESS" {
			f := m.k.facts(pc.p.pid, e.FD, false)
			e.Local = f.local
			s.local, s.remote = f.local, e.Remote
		}
		s.connecting = e.Errno == "EINPROGRESS"
	case listens:
		s.listening = s.listening || ok
	case asksLocal:
		if ok {
			f := m.k.facts(pc.p.pid, e.FD, false)
			e.Local, s.local = f.local, f.local
		}
	case closes:
		if ok && e.Copies == 0 {
			delete(m.socks, s.ino)
			if s.kind == "tcp" && m.kernelState && e.Local != "" && e.Remote != "" {
				m.k.closed(e, pc.v6)
			}
		}
	}
	m.decodeExit(pc, ok)
	if s.connecting && (e.Op == trace.OpWrite || e.Op == trace.OpRead) && e.Errno != "EAGAIN" {
		// A program that never asks SO_ERROR learns the handshake's
		// end from its first write or read that moves bytes.
		m.learnedConnect(s, e, ok && e.Ret > 0)
	}
	if ok && s.kind == "tcp" && m.kernelState && pc.c.view {
		m.k.facts(pc.p.pid, e.FD, true).noteState(e)
	}
	boundDgram := ok && e.Op == trace.OpBind && s.kind == "udp" && e.Local != "" && !strings.HasSuffix(e.Local, ":0")
	s.bound = s.bound || boundDgram
	if pc.show {
		m.peerOf(pc.p, s.role).EndMeasured(e, elapsed)
		ready := pc.c.does == listens && ok || boundDgram && s.role == trace.Server
		if ready && m.listened != nil {
			m.listened(pc.p)
		}
		return
	}
	if s.state == held { // keep it for when the socket's role is known
		s.held = append(s.held, heldCall{p: pc.p, begin: begin, end: *e, elapsed: elapsed})
	}
}

// accepted registers the connection accept returned as descriptor fd.
func (m *model) accepted(pc *pending, fd int) {
	e := &pc.e
	ino, _ := m.k.inode(pc.p.pid, fd)
	f := m.k.facts(pc.p.pid, fd, m.kernelState)
	e.Remote, e.Local = f.remote, f.local
	f.noteState(e)
	m.socks[ino] = &socket{ino: ino, family: pc.sock.family, typ: pc.sock.typ, kind: pc.sock.kind,
		state: shown, role: pc.sock.role, local: f.local, remote: f.remote, nonblock: f.nonblock, owner: pc.p}
}

// errnoError is the error of a call that failed with an errno, by name.
type errnoError string

func (e errnoError) Error() string { return string(e) }
