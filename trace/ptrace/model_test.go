package ptrace

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
)

// The model driven with made-up calls: a fake kernel (descriptor tables,
// what each socket is) and a fake memory stand for the traced programs,
// and a trace.Recorder shows what was emitted.

// fakeKernel is the system the made-up calls run on: every process's
// descriptor table, and what the kernel knows of each socket.
type fakeKernel struct {
	fds     map[[2]int]uint64 // (pid, fd) → socket inode
	sock    map[uint64]facts  // inode → facts
	nextIno uint64
	closes  []string // what closed was asked, "local remote v6"
}

func (k *fakeKernel) inode(pid, fd int) (uint64, bool) {
	ino, ok := k.fds[[2]int{pid, fd}]
	return ino, ok
}

func (k *fakeKernel) facts(pid, fd int, state bool) facts {
	ino, ok := k.fds[[2]int{pid, fd}]
	if !ok {
		return facts{}
	}
	f := k.sock[ino]
	if !state {
		f.state, f.timer = "", 0
	}
	return f
}

// copies counts the other descriptors of the socket, in every process,
// as the real kernel's answer does.
func (k *fakeKernel) copies(ino uint64, pid, fd int) int {
	n := 0
	for key, other := range k.fds {
		if other == ino && key != [2]int{pid, fd} {
			n++
		}
	}
	return n
}

func (k *fakeKernel) closed(e *trace.Event, v6 bool) {
	k.closes = append(k.closes, fmt.Sprint(e.Local, " ", e.Remote, " ", v6))
	e.Kernel.State, e.Kernel.Timer = "TIME_WAIT", 60*time.Second
}

var fakeErrnos = map[int]string{4: "EINTR", 9: "EBADF", 11: "EAGAIN", 111: "ECONNREFUSED", 115: "EINPROGRESS"}

func (k *fakeKernel) queued(pid, fd int, listening bool) (int, bool) { return 0, false }

func (k *fakeKernel) errnoName(n int) string {
	if s, ok := fakeErrnos[n]; ok {
		return s
	}
	return fmt.Sprintf("E%d", n)
}

// newSocket makes a socket in the kernel and gives it to pid as fd.
func (k *fakeKernel) newSocket(pid, fd int, f facts) uint64 {
	k.nextIno++
	ino := 1000 + k.nextIno
	f.ok = true
	k.sock[ino] = f
	k.fds[[2]int{pid, fd}] = ino
	return ino
}

// lowestFree is the descriptor the kernel would give pid next.
func (k *fakeKernel) lowestFree(pid int) int {
	fd := 3
	for {
		if _, used := k.fds[[2]int{pid, fd}]; !used {
			return fd
		}
		fd++
	}
}

// fakeMemory is the traced programs' memory, one address space for all
// (the made-up programs never use the same address for two things).
type fakeMemory struct {
	regions map[uint64][]byte
	next    uint64
	reads   int
}

// put places b in memory and returns its address.
func (m *fakeMemory) put(b []byte) uint64 {
	addr := m.next
	m.regions[addr] = b
	m.next += (uint64(len(b)) + 0x100) &^ 0xff
	return addr
}

var errFault = errors.New("EFAULT")

func (m *fakeMemory) read(pid int, addr uint64, b []byte) (int, error) {
	m.reads++
	for start, r := range m.regions {
		if addr >= start && addr < start+uint64(len(r)) {
			return copy(b, r[addr-start:]), nil
		}
	}
	return 0, errFault
}

// world is one made-up run: the model, its fake system, and the record.
type world struct {
	t   *testing.T
	m   *model
	k   *fakeKernel
	mem *fakeMemory
	rec *trace.Recorder
	// emitted counts the events handed to rec: rec.Events must not be
	// called before the first (see TestRecorderEventsBeforeHandle).
	emitted int
	// listened counts the model's calls of listened, by pid.
	listened []int
}

func newWorld(t *testing.T, all, kernelState bool) *world {
	w := &world{
		t:   t,
		k:   &fakeKernel{fds: map[[2]int]uint64{}, sock: map[uint64]facts{}},
		mem: &fakeMemory{regions: map[uint64][]byte{}, next: 0x10000},
		rec: &trace.Recorder{DataLimit: -1},
	}
	w.m = newModel(trace.New(countingSink{w}), w.k, w.mem, all, kernelState)
	w.m.listened = func(p *process) { w.listened = append(w.listened, p.pid) }
	return w
}

// launch is a program socklab started.
func (w *world) launch(pid int, role trace.Role) *process {
	return w.m.forked(pid, nil, 0, role)
}

// fork makes a child of parent that inherits its descriptors.
func (w *world) fork(parent *process, pid int) *process {
	for key, ino := range w.k.fds {
		if key[0] == parent.pid {
			w.k.fds[[2]int{pid, key[1]}] = ino
		}
	}
	return w.m.forked(pid, parent, parent.program, "")
}

// call runs one made-up call through the model as the tracer does: its
// entry, its Begin, what the kernel does (kernel, which may be nil),
// then its exit with ret. It returns the pending call, nil when the model
// let the call run untraced (the kernel's part is done all the same).
func (w *world) call(p *process, c call, args [6]uint64, ret int64, kernel func()) *pending {
	w.t.Helper()
	pc := w.m.enter(p, c, args)
	if pc == nil {
		if kernel != nil {
			kernel()
		}
		return nil
	}
	w.m.begin(pc)
	if kernel != nil {
		kernel()
	}
	w.m.exit(pc, ret, "", time.Millisecond)
	return pc
}

func (w *world) socket(p *process, family, typ, proto int) int {
	w.t.Helper()
	fd := w.k.lowestFree(p.pid)
	w.call(p, callSocket, [6]uint64{uint64(family), uint64(typ), uint64(proto)}, int64(fd), func() {
		w.k.newSocket(p.pid, fd, facts{family: family, typ: typ & sockTypeMask, nonblock: typ&sockNonblock != 0})
	})
	return fd
}

// addr places a socket address in memory.
func (w *world) addr(a []byte) (uint64, uint64) {
	return w.mem.put(a), uint64(len(a))
}

func (w *world) sockaddrOf(addr string) []byte {
	switch {
	case strings.HasPrefix(addr, "["):
		return inet6(addr, 0)
	case strings.HasPrefix(addr, "@"):
		return unixAbstract(addr[1:])
	case strings.HasPrefix(addr, "/"):
		return unixPath(addr)
	}
	return inet4(addr)
}

func (w *world) fact(p *process, fd int) *facts {
	ino, ok := w.k.fds[[2]int{p.pid, fd}]
	if !ok {
		w.t.Fatalf("pid %d has no socket %d", p.pid, fd)
	}
	f := w.k.sock[ino]
	return &f
}

func (w *world) setFact(p *process, fd int, change func(*facts)) {
	ino := w.k.fds[[2]int{p.pid, fd}]
	f := w.k.sock[ino]
	change(&f)
	w.k.sock[ino] = f
}

func (w *world) bind(p *process, fd int, local string) *pending {
	w.t.Helper()
	a, n := w.addr(w.sockaddrOf(local))
	return w.call(p, callBind, [6]uint64{uint64(fd), a, n}, 0, func() {
		if _, ok := w.k.fds[[2]int{p.pid, fd}]; ok {
			w.setFact(p, fd, func(f *facts) { f.local = local })
		}
	})
}

func (w *world) listen(p *process, fd int) *pending {
	w.t.Helper()
	return w.call(p, callListen, [6]uint64{uint64(fd), 128}, 0, func() {
		w.setFact(p, fd, func(f *facts) { f.listening, f.state = true, "LISTEN" })
	})
}

// accept4 takes a connection from remote on the listening fd: the new
// descriptor it returns.
func (w *world) accept4(p *process, fd int, remote string) int {
	w.t.Helper()
	nfd := w.k.lowestFree(p.pid)
	lf := *w.fact(p, fd)
	w.call(p, callAccept4, [6]uint64{uint64(fd), 0, 0, sockCloexec}, int64(nfd), func() {
		w.k.newSocket(p.pid, nfd, facts{family: lf.family, typ: lf.typ, local: lf.local, remote: remote, state: "ESTABLISHED"})
	})
	return nfd
}

// connect connects fd to remote from local (the port the kernel picks).
func (w *world) connect(p *process, fd int, remote, local string, ret int64) *pending {
	w.t.Helper()
	a, n := w.addr(w.sockaddrOf(remote))
	return w.call(p, callConnect, [6]uint64{uint64(fd), a, n}, ret, func() {
		if ret == 0 {
			w.setFact(p, fd, func(f *facts) { f.local, f.remote, f.state = local, remote, "ESTABLISHED" })
		}
	})
}

// write offers data; the kernel takes ret bytes of it.
func (w *world) write(p *process, c call, fd int, data string, ret int64) *pending {
	w.t.Helper()
	buf := w.mem.put([]byte(data))
	return w.call(p, c, [6]uint64{uint64(fd), buf, uint64(len(data))}, ret, nil)
}

// read reads data into a buffer of size bytes.
func (w *world) read(p *process, c call, fd int, size int, data string) *pending {
	w.t.Helper()
	b := make([]byte, size)
	buf := w.mem.put(b)
	return w.call(p, c, [6]uint64{uint64(fd), buf, uint64(size)}, int64(len(data)), func() { copy(b, data) })
}

func (w *world) close(p *process, fd int) *pending {
	w.t.Helper()
	return w.call(p, callClose, [6]uint64{uint64(fd)}, 0, func() { delete(w.k.fds, [2]int{p.pid, fd}) })
}

// countingSink hands events to the world's recorder and counts them (the
// model runs on one goroutine: no lock needed).
type countingSink struct{ w *world }

func (s countingSink) Handle(e trace.Event) error {
	s.w.emitted++
	return s.w.rec.Handle(e)
}

func (w *world) events() []trace.Event {
	if w.emitted == 0 {
		return nil
	}
	return w.rec.Events()
}

// A Recorder asked for its events before it has any must go on working:
// a viewer that polls it may ask first. (Events sets strs without index,
// and Handle then takes strs for set up.)
func TestRecorderEventsBeforeHandle(t *testing.T) {
	rec := &trace.Recorder{}
	if n := len(rec.Events()); n != 0 {
		t.Fatalf("%d events in a new recorder", n)
	}
	var panicked any
	func() {
		defer func() { panicked = recover() }()
		rec.Handle(trace.Event{Peer: "server", Op: trace.OpCreate})
	}()
	if panicked != nil {
		t.Fatalf("trace.Recorder.Handle panics after Events was called on an empty recorder: %v", panicked)
	}
	if got := rec.Events(); len(got) != 1 || got[0].Peer != "server" {
		t.Errorf("events %+v", got)
	}
}

// brief is an event in a line: "server 1 create begin socket(-1)=0".
func brief(e trace.Event) string {
	return fmt.Sprintf("%s %d %s %s %s(%d)=%d", e.Peer, e.Step, e.Op, e.Phase, e.Syscall, e.FD, e.Ret)
}

func briefs(events []trace.Event) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = brief(e)
	}
	return out
}

// stepsOf lists the events' steps with repeats in a row dropped (a
// call's Begin and End), and the peers they are on.
func stepsOf(events []trace.Event, peer string) []int {
	var steps []int
	for _, e := range events {
		if e.Peer != peer {
			continue
		}
		if len(steps) == 0 || steps[len(steps)-1] != e.Step {
			steps = append(steps, e.Step)
		}
	}
	return steps
}

func wantBriefs(t *testing.T, events []trace.Event, want ...string) {
	t.Helper()
	if got := briefs(events); !slices.Equal(got, want) {
		t.Errorf("events:\n\t%s\nwant:\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

func TestModelServerWithHint(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, trace.Server)
	fd := w.socket(p, afInet, sockStream|sockCloexec, 0)
	w.bind(p, fd, "127.0.0.1:8080")
	w.listen(p, fd)
	conn := w.accept4(p, fd, "127.0.0.1:40000")
	w.read(p, callRead, conn, 1024, "hello")
	w.write(p, callWrite, conn, "got it", 6)
	w.close(p, conn)
	w.close(p, fd)

	events := w.events()
	wantBriefs(t, events,
		"server 1 create begin socket(-1)=0",
		"server 1 create end socket(3)=3",
		"server 2 bind begin bind(3)=0",
		"server 2 bind end bind(3)=0",
		"server 3 listen begin listen(3)=0",
		"server 3 listen end listen(3)=0",
		"server 6 accept begin accept4(3)=0",
		"server 8 accept end accept4(3)=4",
		"server 10 read begin read(4)=0",
		"server 10 read end read(4)=5",
		"server 9 write begin write(4)=0",
		"server 9 write end write(4)=6",
		"server 11 close begin close(4)=0",
		"server 11 close end close(4)=0",
		"server 11 close begin close(3)=0",
		"server 11 close end close(3)=0",
	)
	if got, want := stepsOf(events, "server"), []int{1, 2, 3, 6, 8, 10, 9, 11}; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	for i, e := range events {
		if e.Role != trace.Server || e.PID != 100 || e.Kind != "tcp" || e.Seq != uint64(i+1) {
			t.Errorf("event %d: role %q pid %d kind %q seq %d", i, e.Role, e.PID, e.Kind, e.Seq)
		}
		if e.Phase == trace.End && e.Elapsed != time.Millisecond {
			t.Errorf("%s: Elapsed %v, want the tracer's measure", brief(e), e.Elapsed)
		}
		if e.Err != nil || e.Errno != "" || e.Copies != 0 {
			t.Errorf("%s: err %v errno %q copies %d", brief(e), e.Err, e.Errno, e.Copies)
		}
	}
	if e := events[0]; e.Arg != "AF_INET, SOCK_STREAM|SOCK_CLOEXEC, IPPROTO_IP" || e.FD != -1 {
		t.Errorf("socket Begin: Arg %q FD %d", e.Arg, e.FD)
	}
	if e := events[2]; e.Local != "127.0.0.1:8080" {
		t.Errorf("bind Begin: Local %q", e.Local)
	}
	if e := events[4]; e.Arg != "128" || e.Local != "127.0.0.1:8080" {
		t.Errorf("listen Begin: Arg %q Local %q", e.Arg, e.Local)
	}
	if e := events[7]; e.Remote != "127.0.0.1:40000" || e.Local != "127.0.0.1:8080" || e.Arg != "SOCK_CLOEXEC" {
		t.Errorf("accept End: Local %q Remote %q Arg %q", e.Local, e.Remote, e.Arg)
	}
	if e := events[8]; e.N != 1024 || e.Arg != "1024" || e.Data != nil || e.Remote != "127.0.0.1:40000" {
		t.Errorf("read Begin: N %d Arg %q Data %q Remote %q", e.N, e.Arg, e.Data, e.Remote)
	}
	if e := events[9]; e.N != 5 || string(e.Data) != "hello" {
		t.Errorf("read End: N %d Data %q", e.N, e.Data)
	}
	if e := events[10]; e.N != 6 || string(e.Data) != "got it" || e.Arg != "6" {
		t.Errorf("write Begin: N %d Data %q Arg %q", e.N, e.Data, e.Arg)
	}
	if e := events[11]; e.N != 6 || string(e.Data) != "got it" {
		t.Errorf("write End: N %d Data %q", e.N, e.Data)
	}
	if !slices.Equal(w.listened, []int{100}) {
		t.Errorf("listened called for %v, want [100]", w.listened)
	}
	if p.shown != len(events)/2 {
		t.Errorf("process shown %d calls, want %d", p.shown, len(events)/2)
	}
	if len(w.m.socks) != 0 {
		t.Errorf("the model still knows %d sockets after every close", len(w.m.socks))
	}
	w.m.exited(100)
	if len(w.m.procs) != 0 {
		t.Errorf("the model still knows the process after its exit")
	}
}

func TestModelHeldUntilListen(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, "")
	fd := w.socket(p, afInet, sockStream, 0)
	w.call(p, callSetsockopt, [6]uint64{uint64(fd), 1, 2}, 0, nil)
	w.bind(p, fd, "127.0.0.1:8080")
	if events := w.events(); len(events) != 0 {
		t.Fatalf("a socket whose role is not known was shown:\n%s", lines(events))
	}
	pc := w.m.enter(p, callListen, [6]uint64{uint64(fd), 5})
	if pc == nil || !pc.show {
		t.Fatalf("listen's entry = %+v, want a shown call", pc)
	}
	// The held calls come out at the entry of the call that decided,
	// before its own Begin.
	wantBriefs(t, w.events(),
		"server 1 create begin socket(-1)=0",
		"server 1 create end socket(3)=3",
		"server 0 setsockopt begin setsockopt(3)=0",
		"server 0 setsockopt end setsockopt(3)=0",
		"server 2 bind begin bind(3)=0",
		"server 2 bind end bind(3)=0",
	)
	w.m.begin(pc)
	w.m.exit(pc, 0, "", 0)
	events := w.events()
	if got := briefs(events[6:]); !slices.Equal(got, []string{"server 3 listen begin listen(3)=0", "server 3 listen end listen(3)=0"}) {
		t.Errorf("after the held calls: %q", got)
	}
	if e := events[2]; e.Arg != "SOL_SOCKET, SO_REUSEADDR" {
		t.Errorf("setsockopt Arg %q", e.Arg)
	}
	if e := events[4]; e.Local != "127.0.0.1:8080" {
		t.Errorf("held bind's Local %q", e.Local)
	}
	if e := events[6]; e.Arg != "5" || e.Local != "127.0.0.1:8080" {
		t.Errorf("listen Begin Arg %q Local %q", e.Arg, e.Local)
	}
	for i, e := range events {
		if e.Seq != uint64(i+1) || e.Role != trace.Server {
			t.Errorf("event %d: seq %d role %q", i, e.Seq, e.Role)
		}
	}
	if p.shown != 4 {
		t.Errorf("shown %d, want 4", p.shown)
	}
	// The rest is shown as it happens.
	conn := w.accept4(p, fd, "127.0.0.1:40000")
	w.read(p, callRead, conn, 10, "x")
	if got := stepsOf(w.events(), "server"); !slices.Equal(got, []int{1, 0, 2, 3, 6, 8, 10}) {
		t.Errorf("steps %v", got)
	}
}

func TestModelHeldUntilConnect(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, "")
	fd := w.socket(p, afInet6, sockStream|sockNonblock|sockCloexec, 0)
	if len(w.events()) != 0 {
		t.Fatal("a held socket was shown")
	}
	w.connect(p, fd, "[::1]:8080", "[::1]:40000", -115)
	events := w.events()
	wantBriefs(t, events,
		"client 4 create begin socket(-1)=0",
		"client 4 create end socket(3)=3",
		"client 5 connect begin connect(3)=0",
		"client 5 connect end connect(3)=-1", // EINPROGRESS: still step 5
	)
	if e := events[3]; e.Errno != "EINPROGRESS" || e.Err == nil || e.Err.Error() != "EINPROGRESS" || e.Remote != "[::1]:8080" {
		t.Errorf("connect End: errno %q err %v remote %q", e.Errno, e.Err, e.Remote)
	}
	if e := events[2]; e.Remote != "[::1]:8080" || e.Role != trace.Client {
		t.Errorf("connect Begin: remote %q role %q", e.Remote, e.Role)
	}
}

func TestModelNoise(t *testing.T) {
	for _, tt := range []struct {
		all  bool
		hint trace.Role
	}{{false, ""}, {false, trace.Client}, {false, trace.Server}, {true, ""}} {
		t.Run(fmt.Sprintf("all=%v,hint=%q", tt.all, tt.hint), func(t *testing.T) {
			w := newWorld(t, tt.all, false)
			p := w.launch(100, tt.hint)
			// glibc's nscd lookup.
			nscd := w.socket(p, afUnix, sockStream|sockCloexec|sockNonblock, 0)
			pc := w.connect(p, nscd, "/var/run/nscd/socket", "(unnamed)", -111)
			if (pc == nil) == tt.all {
				t.Errorf("connect to nscd traced: %v", pc != nil)
			}
			w.close(p, nscd)
			// A DNS query over UDP, connected.
			udp := w.socket(p, afInet, sockDgram|sockCloexec|sockNonblock, 0)
			w.connect(p, udp, "127.0.0.53:53", "127.0.0.1:50000", 0)
			if pc := w.write(p, callSendto, udp, "\x12\x34query", 7); (pc == nil) == tt.all {
				t.Errorf("DNS sendto traced: %v", pc != nil)
			}
			w.read(p, callRecvfrom, udp, 512, "\x12\x34answer")
			w.close(p, udp)
			if tt.hint == "" {
				// The same over TCP (a truncated answer). A process
				// with a hint shows its every TCP socket from socket()
				// on: that one would be shown.
				tcp := w.socket(p, afInet6, sockStream, 0)
				w.connect(p, tcp, "[2001:db8::53]:53", "[2001:db8::1]:40000", 0)
				w.close(p, tcp)
			}
			// A netlink request (getifaddrs): noise from socket() on.
			nl := w.socket(p, 16, 3|sockCloexec, 0)
			w.bind(p, nl, "0.0.0.0:0")
			w.write(p, callSendto, nl, "req", 3)
			w.close(p, nl)
			events := w.events()
			if !tt.all {
				if len(events) != 0 {
					t.Errorf("noise was shown:\n%s", lines(events))
				}
				return
			}
			// --all shows everything; the nscd socket's role is never
			// known: it is the process's own, "pid 100".
			if len(events) == 0 {
				t.Fatal("--all showed nothing")
			}
			if e := events[0]; e.Peer != "pid 100" || e.Op != trace.OpCreate || e.Kind != "unix" {
				t.Errorf("first event: %s kind %q", brief(e), e.Kind)
			}
			var nscdConnect, netlink bool
			for _, e := range events {
				if e.Op == trace.OpConnect && e.Phase == trace.Begin && e.Remote == "/var/run/nscd/socket" {
					nscdConnect = true
				}
				if e.Op == trace.OpCreate && e.Arg == "AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, 0" {
					netlink = true
				}
			}
			if !nscdConnect || !netlink {
				t.Errorf("--all did not show the connect to nscd (%v) or the netlink socket (%v):\n%s", nscdConnect, netlink, lines(events))
			}
		})
	}
}

// A UDP query to a DNS server with sendto (no connect) and a Unix socket
// to systemd-resolved stay out of a client's trace; the lesson's UDP
// exchange that follows is shown.
func TestModelNoiseSendtoDNS(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, "")
	dns := w.socket(p, afInet, sockDgram, 0)
	a, n := w.addr(inet4("8.8.8.8:53"))
	buf := w.mem.put([]byte("query"))
	if pc := w.call(p, callSendto, [6]uint64{uint64(dns), buf, 5, 0, a, n}, 5, nil); pc != nil && pc.show {
		t.Error("a DNS query was shown")
	}
	w.read(p, callRecvfrom, dns, 512, "answer")
	w.close(p, dns)
	resolved := w.socket(p, afUnix, sockStream, 0)
	w.connect(p, resolved, "/run/systemd/resolve/io.systemd.Resolve", "(unnamed)", 0)
	w.close(p, resolved)
	if events := w.events(); len(events) != 0 {
		t.Fatalf("noise was shown:\n%s", lines(events))
	}
	udp := w.socket(p, afInet, sockDgram, 0)
	a, n = w.addr(inet4("127.0.0.1:9999"))
	buf = w.mem.put([]byte("ping"))
	w.call(p, callSendto, [6]uint64{uint64(udp), buf, 4, 0, a, n}, 4, nil)
	events := w.events()
	wantBriefs(t, events,
		"client 4 create begin socket(-1)=0",
		"client 4 create end socket(3)=3",
		"client 9 sendto begin sendto(3)=0",
		"client 9 sendto end sendto(3)=4",
	)
	if e := events[2]; e.Remote != "127.0.0.1:9999" || string(e.Data) != "ping" || e.Kind != "udp" {
		t.Errorf("sendto Begin: remote %q data %q kind %q", e.Remote, e.Data, e.Kind)
	}
}

// A noise socket's close ends it: the model must not keep every DNS
// query's socket of a long-running program.
func TestModelForgetsNoiseAtClose(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, "")
	for range 3 {
		fd := w.socket(p, afUnix, sockStream, 0)
		w.connect(p, fd, "/var/run/nscd/socket", "(unnamed)", -2)
		w.close(p, fd)
	}
	if n := len(w.m.socks); n != 0 {
		t.Fatalf("the model keeps %d closed noise sockets (enter returns before the close of a noise socket deletes it)", n)
	}
}

func TestModelClosedBeforeRoleIsDropped(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, "")
	// Go's probe of IPv6 support: a socket, an option, a bind, a close.
	fd := w.socket(p, afInet6, sockStream|sockCloexec|sockNonblock, 0)
	w.call(p, callSetsockopt, [6]uint64{uint64(fd), 41, 26}, 0, nil)
	w.bind(p, fd, "[::1]:0")
	if pc := w.close(p, fd); pc != nil {
		t.Errorf("the close of a held socket was traced: %+v", pc.e)
	}
	if len(w.m.socks) != 0 {
		t.Errorf("the dropped socket is still known")
	}
	// The same descriptor number, a new socket: shown once it connects,
	// with none of the dropped calls.
	fd = w.socket(p, afInet, sockStream, 0)
	w.connect(p, fd, "127.0.0.1:8080", "127.0.0.1:40000", 0)
	wantBriefs(t, w.events(),
		"client 4 create begin socket(-1)=0",
		"client 4 create end socket(3)=3",
		"client 5 connect begin connect(3)=0",
		"client 7 connect end connect(3)=0",
	)
	if e := w.events()[3]; e.Local != "127.0.0.1:40000" || e.Remote != "127.0.0.1:8080" {
		t.Errorf("connect End: local %q remote %q", e.Local, e.Remote)
	}
}

func TestModelCopies(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, trace.Server)
	fd := w.socket(p, afInet, sockStream, 0)
	w.bind(p, fd, "127.0.0.1:8080")
	w.listen(p, fd)
	conn := w.accept4(p, fd, "127.0.0.1:40000")
	// dup(conn): the kernel's table has a second descriptor.
	dup := w.k.lowestFree(p.pid)
	w.k.fds[[2]int{p.pid, dup}] = w.k.fds[[2]int{p.pid, conn}]
	w.close(p, conn)
	w.write(p, callWrite, dup, "still open", 10)
	w.close(p, dup)
	events := w.events()
	var closes []trace.Event
	for _, e := range events {
		if e.Op == trace.OpClose {
			closes = append(closes, e)
		}
	}
	if len(closes) != 4 {
		t.Fatalf("closes:\n%s", lines(events))
	}
	for _, e := range closes[:2] {
		if e.Copies != 1 || e.Step != 0 || e.FD != conn {
			t.Errorf("close of one of two copies: %s copies %d", brief(e), e.Copies)
		}
	}
	for _, e := range closes[2:] {
		if e.Copies != 0 || e.Step != 11 || e.FD != dup {
			t.Errorf("close of the last copy: %s copies %d", brief(e), e.Copies)
		}
	}
	// The write on the duplicate is the same connection's.
	for _, e := range events {
		if e.Op == trace.OpWrite && (e.FD != dup || e.Step != 9 || e.Remote != "127.0.0.1:40000") {
			t.Errorf("write on the duplicate: %s remote %q", brief(e), e.Remote)
		}
	}
	if len(w.m.socks) != 1 { // the listener
		t.Errorf("the model knows %d sockets, want the listener alone", len(w.m.socks))
	}
}

// pair.py in made-up calls: a server that forks its client.
func TestModelForkedClient(t *testing.T) {
	w := newWorld(t, false, false)
	parent := w.launch(100, "")
	ln := w.socket(parent, afInet, sockStream|sockCloexec, 0)
	w.bind(parent, ln, "127.0.0.1:0")
	w.listen(parent, ln)
	child := w.fork(parent, 200)
	if child.hint != "" || child.parent != parent {
		t.Fatalf("the child: hint %q parent %v", child.hint, child.parent)
	}
	w.close(child, ln) // the child's copy of the listener
	c := w.socket(child, afInet, sockStream|sockCloexec, 0)
	w.connect(child, c, "127.0.0.1:8080", "127.0.0.1:40000", 0)
	w.write(child, callSendto, c, "hello", 5)
	conn := w.accept4(parent, ln, "127.0.0.1:40000")
	w.read(parent, callRecvfrom, conn, 1024, "hello")
	w.write(parent, callSendto, conn, "HELLO", 5)
	w.read(child, callRecvfrom, c, 1024, "HELLO")
	w.close(child, c)
	w.m.exited(200)
	w.read(parent, callRecvfrom, conn, 1024, "")
	w.close(parent, conn)
	w.close(parent, ln)

	events := w.events()
	peers := map[string]trace.Role{}
	for _, e := range events {
		peers[e.Peer] = e.Role
		wantPID := map[string]int{"server": 100, "server-2": 200, "client": 200}[e.Peer]
		if e.PID != wantPID {
			t.Errorf("%s: pid %d, want %d", brief(e), e.PID, wantPID)
		}
	}
	if want := map[string]trace.Role{"server": trace.Server, "server-2": trace.Server, "client": trace.Client}; fmt.Sprint(peers) != fmt.Sprint(want) {
		t.Errorf("peers %v, want %v", peers, want)
	}
	if got, want := stepsOf(events, "server"), []int{1, 2, 3, 6, 8, 10, 9, 10, 11}; !slices.Equal(got, want) {
		t.Errorf("server's steps %v, want %v", got, want)
	}
	if got, want := stepsOf(events, "client"), []int{4, 5, 7, 9, 10, 11}; !slices.Equal(got, want) {
		t.Errorf("client's steps %v, want %v", got, want)
	}
	var childClose []trace.Event
	for _, e := range events {
		if e.Peer == "server-2" {
			childClose = append(childClose, e)
		}
	}
	if len(childClose) != 2 {
		t.Fatalf("server-2's events:\n%s", lines(childClose))
	}
	for _, e := range childClose {
		if e.Op != trace.OpClose || e.FD != ln || e.Copies != 1 || e.Step != 0 {
			t.Errorf("the child's close of the listener: %s copies %d", brief(e), e.Copies)
		}
	}
	// The parent's last close of the listener is step 11: the child's
	// copy is gone.
	last := events[len(events)-1]
	if brief(last) != "server 11 close end close(3)=0" || last.Copies != 0 {
		t.Errorf("last event %s copies %d", brief(last), last.Copies)
	}
	for _, e := range events {
		switch e.Syscall {
		case "sendto":
			if e.Op != trace.OpWrite || e.Step != 9 {
				t.Errorf("sendto on TCP: %s", brief(e))
			}
		case "recvfrom":
			if e.Op != trace.OpRead || e.Step != 10 {
				t.Errorf("recvfrom on TCP: %s", brief(e))
			}
		}
	}
	// The final recvfrom is the EOF.
	var eof int
	for i := range events {
		if events[i].EOF() {
			eof++
		}
	}
	if eof != 1 {
		t.Errorf("%d EOF reads, want 1", eof)
	}
}

// A child's peer names count on from the parent's: a forking server's
// second child that serves a connection is "server-3".
func TestModelPeerNames(t *testing.T) {
	w := newWorld(t, false, false)
	parent := w.launch(100, trace.Server)
	ln := w.socket(parent, afInet, sockStream, 0)
	w.bind(parent, ln, "127.0.0.1:8080")
	w.listen(parent, ln)
	for i, pid := range []int{201, 202} {
		conn := w.accept4(parent, ln, fmt.Sprintf("127.0.0.1:%d", 40000+i))
		child := w.fork(parent, pid)
		w.close(parent, conn)
		w.close(child, ln)
		w.write(child, callWrite, conn, "hi", 2)
		w.close(child, conn)
		w.m.exited(pid)
	}
	names := map[string]bool{}
	for _, e := range w.events() {
		names[e.Peer] = true
	}
	if fmt.Sprint(names) != fmt.Sprint(map[string]bool{"server": true, "server-2": true, "server-3": true}) {
		t.Errorf("peers %v", names)
	}
	// A second launched client program is client-2.
	c1 := w.launch(300, trace.Client)
	c2 := w.launch(301, trace.Client)
	w.socket(c1, afInet, sockStream, 0)
	w.socket(c2, afInet, sockStream, 0)
	events := w.events()
	if a, b := events[len(events)-3].Peer, events[len(events)-1].Peer; a != "client" || b != "client-2" {
		t.Errorf("two client programs: %q and %q", a, b)
	}
}

func TestModelSignalAndErrno(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, trace.Server)
	fd := w.socket(p, afInet, sockStream, 0)
	w.bind(p, fd, "127.0.0.1:8080")
	w.listen(p, fd)
	pc := w.m.enter(p, callAccept4, [6]uint64{uint64(fd), 0, 0, 0})
	w.m.begin(pc)
	w.m.exit(pc, -512, "SIGINT", 2*time.Second)
	events := w.events()
	e := events[len(events)-1]
	if e.Errno != "EINTR" || e.Signal != "SIGINT" || e.Ret != -1 || e.Err == nil || e.Step != 6 || e.Elapsed != 2*time.Second {
		t.Errorf("interrupted accept: %s errno %q signal %q err %v elapsed %v", brief(e), e.Errno, e.Signal, e.Err, e.Elapsed)
	}
	if e.Err != nil && !strings.Contains(e.Err.Error(), "SIGINT") {
		t.Errorf("err %q does not name the signal", e.Err)
	}
	// The other restart codes are signals too.
	for _, code := range []int64{-513, -514, -516} {
		pc := w.m.enter(p, callAccept4, [6]uint64{uint64(fd)})
		w.m.begin(pc)
		w.m.exit(pc, code, "SIGTERM", 0)
		events := w.events()
		if e := events[len(events)-1]; e.Errno != "EINTR" || e.Signal != "SIGTERM" {
			t.Errorf("ret %d: errno %q signal %q", code, e.Errno, e.Signal)
		}
	}
	// A plain errno has no signal.
	c := w.launch(101, trace.Client)
	cfd := w.socket(c, afInet, sockStream, 0)
	w.connect(c, cfd, "127.0.0.1:1", "", -111)
	events = w.events()
	if e := events[len(events)-1]; e.Errno != "ECONNREFUSED" || e.Signal != "" || e.Err == nil || e.Err.Error() != "ECONNREFUSED" || e.Step != 5 || e.Ret != -1 {
		t.Errorf("refused connect: %s errno %q signal %q err %v", brief(e), e.Errno, e.Signal, e.Err)
	}
	// An errno the system has no name for.
	pc = w.m.enter(c, callWrite, [6]uint64{uint64(cfd), 0, 0})
	w.m.begin(pc)
	w.m.exit(pc, -4095, "", 0)
	events = w.events()
	if e := events[len(events)-1]; e.Errno != "E4095" || e.N != 0 {
		t.Errorf("unknown errno: %q N %d", e.Errno, e.N)
	}
	// EAGAIN on a read: nothing read.
	r := w.read(c, callRead, cfd, 16, "")
	w.m.exit(r, -11, "", 0) // once more, failing, on the same pending call
	events = w.events()
	if e := events[len(events)-1]; e.Errno != "EAGAIN" || e.N != 0 || len(e.Data) != 0 || e.Step != 10 {
		t.Errorf("EAGAIN read: %s errno %q N %d data %q", brief(e), e.Errno, e.N, e.Data)
	}
}

func TestModelNotASocket(t *testing.T) {
	w := newWorld(t, true, true) // even with --all
	p := w.launch(100, trace.Server)
	for _, c := range []call{callRead, callWrite, callClose, callFcntl, callReadv, callWritev} {
		if pc := w.m.enter(p, c, [6]uint64{1, 0x1000, 10}); pc != nil {
			t.Errorf("%v on a file was traced", c)
		}
	}
	// A negative descriptor (AT_FDCWD in a 64-bit register).
	if pc := w.m.enter(p, callClose, [6]uint64{0xffffffffffffff9c}); pc != nil {
		t.Error("close(-100) was traced")
	}
	if n := len(w.events()); n != 0 {
		t.Errorf("%d events for files", n)
	}
}

// Sockets the model did not see made: inherited (socket activation,
// a program started with a listener), or passed over a Unix socket.
func TestModelAdopt(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, "")
	w.k.newSocket(100, 3, facts{family: afInet, typ: sockStream, local: "0.0.0.0:80", listening: true})
	w.k.newSocket(100, 4, facts{family: 16, typ: 3}) // netlink
	w.k.newSocket(100, 5, facts{family: afInet, typ: sockStream, local: "127.0.0.1:5000", remote: "127.0.0.1:6000"})
	conn := w.accept4(p, 3, "127.0.0.1:40000")
	if pc := w.write(p, callWrite, 4, "nl", 2); pc != nil {
		t.Error("a netlink socket's write was traced")
	}
	// A connected socket of a process without a hint: its role is not
	// known, and the write does not tell.
	if pc := w.write(p, callWrite, 5, "x", 1); pc != nil && pc.show {
		t.Error("a connected socket of unknown role was shown")
	}
	events := w.events()
	wantBriefs(t, events,
		"server 6 accept begin accept4(3)=0",
		"server 8 accept end accept4(3)=6",
	)
	if e := events[0]; e.Local != "0.0.0.0:80" {
		t.Errorf("accept Begin local %q", e.Local)
	}
	if conn != 6 || events[1].Remote != "127.0.0.1:40000" {
		t.Errorf("accepted fd %d remote %q", conn, events[1].Remote)
	}
	// With a hint, a connected TCP socket is that role's at once.
	c := w.launch(101, trace.Client)
	w.k.newSocket(101, 7, facts{family: afInet, typ: sockStream, local: "127.0.0.1:5001", remote: "127.0.0.1:80", nonblock: true})
	w.write(c, callWrite, 7, "GET /", 5)
	events = w.events()
	e := events[len(events)-1]
	if brief(e) != "client 9 write end write(7)=5" || !e.Nonblock || e.Remote != "127.0.0.1:80" {
		t.Errorf("adopted connected socket: %s nonblock %v remote %q", brief(e), e.Nonblock, e.Remote)
	}
}

func TestModelFcntlNonblock(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, trace.Client)
	fd := w.socket(p, afInet, sockStream, 0)
	w.call(p, callFcntl, [6]uint64{uint64(fd), fSetfl, 0o4002}, 0, nil)
	w.connect(p, fd, "127.0.0.1:8080", "127.0.0.1:40000", -115)
	w.call(p, callFcntl, [6]uint64{uint64(fd), fSetfl, 0o2}, 0, nil)
	w.read(p, callRead, fd, 8, "ok")
	events := w.events()
	for _, e := range events {
		switch {
		case e.Op == trace.OpFcntl && e.Phase == trace.Begin && e.Step != 0:
			t.Errorf("fcntl is a step: %s", brief(e))
		case e.Op == trace.OpConnect && !e.Nonblock:
			t.Errorf("connect after F_SETFL O_NONBLOCK: Nonblock false")
		case e.Op == trace.OpRead && e.Nonblock:
			t.Errorf("read after O_NONBLOCK was cleared: Nonblock true")
		}
	}
	if e := events[2]; e.Op != trace.OpFcntl || e.Arg != "F_SETFL, O_NONBLOCK|02" {
		t.Errorf("fcntl Begin: %s arg %q", brief(e), e.Arg)
	}
	if e := events[6]; e.Op != trace.OpFcntl || e.Arg != "F_SETFL, 02" {
		t.Errorf("second fcntl Begin: %s arg %q", brief(e), e.Arg)
	}
}

// The scatter/gather calls: the bytes of every buffer, in order.
func TestModelVectors(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, trace.Client)
	fd := w.socket(p, afInet, sockStream, 0)
	w.connect(p, fd, "127.0.0.1:8080", "127.0.0.1:40000", 0)

	iov := w.mem.put(iovecBytes(iovec{w.mem.put([]byte("hello, ")), 7}, iovec{w.mem.put([]byte("world")), 5}))
	w.call(p, callWritev, [6]uint64{uint64(fd), iov, 2}, 12, nil)
	hdr := w.mem.put(msghdrBytes(0, 0, iov, 2))
	w.call(p, callSendmsg, [6]uint64{uint64(fd), hdr, 0}, 9, nil) // a short write
	// sendmmsg: the first message's buffers; it returns how many
	// messages it sent, and the kernel writes each one's bytes in its
	// struct mmsghdr (msg_len, after the msghdr).
	mmsg := append(msghdrBytes(0, 0, iov, 2), make([]byte, 8)...)
	mhdr := w.mem.put(mmsg)
	w.call(p, callSendmmsg, [6]uint64{uint64(fd), mhdr, 1, 0}, 1, func() { binary.LittleEndian.PutUint32(mmsg[msghdrSize:], 12) })

	a, b := make([]byte, 4), make([]byte, 8)
	riov := w.mem.put(iovecBytes(iovec{w.mem.put(a), 4}, iovec{w.mem.put(b), 8}))
	w.call(p, callReadv, [6]uint64{uint64(fd), riov, 2}, 6, func() { copy(a, "abcd"); copy(b, "ef") })
	rhdr := w.mem.put(msghdrBytes(0, 0, riov, 2))
	w.call(p, callRecvmsg, [6]uint64{uint64(fd), rhdr, 0}, 3, func() { copy(a, "xyz") })
	rmmsg := append(msghdrBytes(0, 0, riov, 2), make([]byte, 8)...)
	rmhdr := w.mem.put(rmmsg)
	w.call(p, callRecvmmsg, [6]uint64{uint64(fd), rmhdr, 1, 0, 0}, 1, func() {
		copy(a, "uvwx")
		copy(b, "yz")
		binary.LittleEndian.PutUint32(rmmsg[msghdrSize:], 6)
	})

	type want struct {
		syscall string
		op      trace.Op
		phase   trace.Phase
		n       int
		data    string
	}
	var got []want
	for _, e := range w.events()[4:] {
		got = append(got, want{e.Syscall, e.Op, e.Phase, e.N, string(e.Data)})
	}
	wants := []want{
		{"writev", trace.OpWrite, trace.Begin, 12, "hello, world"},
		{"writev", trace.OpWrite, trace.End, 12, "hello, world"},
		{"sendmsg", trace.OpWrite, trace.Begin, 12, "hello, world"},
		{"sendmsg", trace.OpWrite, trace.End, 9, "hello, wo"},
		{"sendmmsg", trace.OpWrite, trace.Begin, 12, "hello, world"},
		{"sendmmsg", trace.OpWrite, trace.End, 12, "hello, world"},
		{"readv", trace.OpRead, trace.Begin, 12, ""},
		{"readv", trace.OpRead, trace.End, 6, "abcdef"},
		{"recvmsg", trace.OpRead, trace.Begin, 12, ""},
		{"recvmsg", trace.OpRead, trace.End, 3, "xyz"},
		{"recvmmsg", trace.OpRead, trace.Begin, 12, ""},
		{"recvmmsg", trace.OpRead, trace.End, 6, "uvwxyz"},
	}
	if !slices.Equal(got, wants) {
		t.Errorf("got\n\t%v\nwant\n\t%v", got, wants)
	}
}

// A write's data is kept up to the model's cap; N still counts every byte.
func TestModelDataCap(t *testing.T) {
	w := newWorld(t, false, false)
	w.m.dataCap = 4
	p := w.launch(100, trace.Client)
	fd := w.socket(p, afInet, sockStream, 0)
	w.connect(p, fd, "127.0.0.1:8080", "127.0.0.1:40000", 0)
	w.write(p, callWrite, fd, "0123456789", 10)
	w.read(p, callRead, fd, 100, "abcdefgh")
	events := w.events()[4:]
	for _, e := range events {
		if len(e.Data) > 4 {
			t.Errorf("%s kept %d bytes, over the cap", brief(e), len(e.Data))
		}
	}
	if e := events[0]; e.N != 10 || string(e.Data) != "0123" {
		t.Errorf("write Begin N %d data %q", e.N, e.Data)
	}
	if e := events[3]; e.N != 8 || string(e.Data) != "abcd" {
		t.Errorf("read End N %d data %q", e.N, e.Data)
	}
	// A buffer the program does not own: no data, no panic.
	pc := w.call(p, callWrite, [6]uint64{uint64(fd), 0xdead0000, 5}, -14, nil)
	if pc == nil || pc.e.N != 0 || len(pc.e.Data) != 0 {
		t.Errorf("write from a bad address: %+v", pc)
	}
	// Absurd sizes and counts are not read.
	reads := w.mem.reads
	w.call(p, callReadv, [6]uint64{uint64(fd), 0x1000, 1 << 40}, -22, nil)
	w.call(p, callBind, [6]uint64{uint64(fd), 0x1000, 1 << 20}, -22, nil)
	if w.mem.reads != reads {
		t.Errorf("the model read memory for an iovec count of 2^40 or an address of 1 MiB")
	}
}

// UDP: sendto and recvfrom with addresses, shown as datagrams.
func TestModelUDPClient(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, trace.Client)
	fd := w.socket(p, afInet, sockDgram, 17)
	a, n := w.addr(inet4("127.0.0.1:9999"))
	w.call(p, callSendto, [6]uint64{uint64(fd), w.mem.put([]byte("ping")), 4, 0, a, n}, 4, nil)
	buf := make([]byte, 64)
	from := make([]byte, 16)
	fromLen := make([]byte, 4)
	binary.LittleEndian.PutUint32(fromLen, 16)
	w.call(p, callRecvfrom, [6]uint64{uint64(fd), w.mem.put(buf), 64, 0, w.mem.put(from), w.mem.put(fromLen)}, 4, func() {
		copy(buf, "pong")
		copy(from, inet4("127.0.0.1:9999"))
	})
	// recvmsg with a name.
	name := make([]byte, 16)
	riov := w.mem.put(iovecBytes(iovec{w.mem.put(buf), 64}))
	w.call(p, callRecvmsg, [6]uint64{uint64(fd), w.mem.put(msghdrBytes(w.mem.put(name), 16, riov, 1))}, 3, func() {
		copy(buf, "bye")
		copy(name, inet4("127.0.0.2:9998"))
	})
	// sendmsg with a name.
	siov := w.mem.put(iovecBytes(iovec{w.mem.put([]byte("again")), 5}))
	na, nn := w.addr(inet4("127.0.0.3:7777"))
	w.call(p, callSendmsg, [6]uint64{uint64(fd), w.mem.put(msghdrBytes(na, uint32(nn), siov, 1))}, 5, nil)
	events := w.events()
	wantBriefs(t, events,
		"client 4 create begin socket(-1)=0",
		"client 4 create end socket(3)=3",
		"client 9 sendto begin sendto(3)=0",
		"client 9 sendto end sendto(3)=4",
		"client 10 recvfrom begin recvfrom(3)=0",
		"client 10 recvfrom end recvfrom(3)=4",
		"client 10 recvfrom begin recvmsg(3)=0",
		"client 10 recvfrom end recvmsg(3)=3",
		"client 9 sendto begin sendmsg(3)=0",
		"client 9 sendto end sendmsg(3)=5",
	)
	if e := events[0]; e.Kind != "udp" || e.Arg != "AF_INET, SOCK_DGRAM, IPPROTO_UDP" {
		t.Errorf("socket: kind %q arg %q", e.Kind, e.Arg)
	}
	if e := events[2]; e.Remote != "127.0.0.1:9999" || string(e.Data) != "ping" {
		t.Errorf("sendto: remote %q data %q", e.Remote, e.Data)
	}
	if e := events[5]; e.Remote != "127.0.0.1:9999" || string(e.Data) != "pong" || e.N != 4 {
		t.Errorf("recvfrom End: remote %q data %q N %d", e.Remote, e.Data, e.N)
	}
	if e := events[7]; e.Remote != "127.0.0.2:9998" || string(e.Data) != "bye" {
		t.Errorf("recvmsg End: remote %q data %q", e.Remote, e.Data)
	}
	if e := events[8]; e.Remote != "127.0.0.3:7777" || string(e.Data) != "again" {
		t.Errorf("sendmsg Begin: remote %q data %q", e.Remote, e.Data)
	}
}

// sendmmsg and recvmmsg name their first message's address as sendmsg
// and recvmsg do: a program that sends a datagram to an address with
// sendmmsg is a client, and a datagram's source shows.
func TestModelUDPMmsg(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, "")
	fd := w.socket(p, afInet, sockDgram, 17)
	siov := w.mem.put(iovecBytes(iovec{w.mem.put([]byte("ping")), 4}))
	na, nn := w.addr(inet4("127.0.0.1:9999"))
	smsg := append(msghdrBytes(na, uint32(nn), siov, 1), make([]byte, 8)...)
	w.call(p, callSendmmsg, [6]uint64{uint64(fd), w.mem.put(smsg), 1}, 1, func() {
		binary.LittleEndian.PutUint32(smsg[msghdrSize:], 4)
	})
	buf, name := make([]byte, 64), make([]byte, 16)
	riov := w.mem.put(iovecBytes(iovec{w.mem.put(buf), 64}))
	rmsg := append(msghdrBytes(w.mem.put(name), 16, riov, 1), make([]byte, 8)...)
	w.call(p, callRecvmmsg, [6]uint64{uint64(fd), w.mem.put(rmsg), 1}, 1, func() {
		copy(buf, "pong")
		copy(name, inet4("127.0.0.2:9998"))
		binary.LittleEndian.PutUint32(rmsg[msghdrSize:], 4)
	})
	if w.emitted == 0 {
		t.Fatal("nothing shown: the sendmmsg to 127.0.0.1:9999 did not make the socket a client's")
	}
	events := w.events()
	wantBriefs(t, events,
		"client 4 create begin socket(-1)=0",
		"client 4 create end socket(3)=3",
		"client 9 sendto begin sendmmsg(3)=0",
		"client 9 sendto end sendmmsg(3)=1",
		"client 10 recvfrom begin recvmmsg(3)=0",
		"client 10 recvfrom end recvmmsg(3)=1",
	)
	if e := events[2]; e.Remote != "127.0.0.1:9999" || string(e.Data) != "ping" {
		t.Errorf("sendmmsg Begin: remote %q data %q", e.Remote, e.Data)
	}
	if e := events[5]; e.Remote != "127.0.0.2:9998" || string(e.Data) != "pong" || e.N != 4 {
		t.Errorf("recvmmsg End: remote %q data %q N %d", e.Remote, e.Data, e.N)
	}
}

// A UDP server started with --server: its sockets are the server's from
// socket() on (the process's hint), its replies too.
func TestModelUDPServerWithHint(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, trace.Server)
	fd := w.socket(p, afInet, sockDgram, 0)
	w.bind(p, fd, "127.0.0.1:9999")
	buf := make([]byte, 64)
	from := make([]byte, 16)
	fromLen := make([]byte, 4)
	binary.LittleEndian.PutUint32(fromLen, 16)
	w.call(p, callRecvfrom, [6]uint64{uint64(fd), w.mem.put(buf), 64, 0, w.mem.put(from), w.mem.put(fromLen)}, 4, func() {
		copy(buf, "ping")
		copy(from, inet4("127.0.0.1:40000"))
	})
	a, n := w.addr(inet4("127.0.0.1:40000"))
	w.call(p, callSendto, [6]uint64{uint64(fd), w.mem.put([]byte("pong")), 4, 0, a, n}, 4, nil)
	events := w.events()
	if len(events) == 0 {
		t.Fatal("nothing shown")
	}
	for _, e := range events {
		if e.Peer != "server" || e.Role != trace.Server {
			t.Fatalf("a --server UDP program's calls are shown on %q (role %q): firstState holds its UDP socket and decide names it by its first sendto, ignoring the hint\n%s", e.Peer, e.Role, lines(events))
		}
	}
	if got := stepsOf(events, "server"); !slices.Equal(got, []int{1, 2, 10, 9}) {
		t.Errorf("steps %v", got)
	}
}

// --all shows every socket at once, but a socket that goes on to listen
// is still the server's: its listen is step 3, its accept 6 and 8.
func TestModelAllStillLearnsRoles(t *testing.T) {
	w := newWorld(t, true, false)
	p := w.launch(100, "")
	fd := w.socket(p, afInet, sockStream, 0)
	w.bind(p, fd, "127.0.0.1:8080")
	w.listen(p, fd)
	w.accept4(p, fd, "127.0.0.1:40000")
	events := w.events()
	if len(events) != 8 {
		t.Fatalf("events:\n%s", lines(events))
	}
	for _, e := range events[4:] {
		if e.Role != trace.Server || e.Step == 0 {
			t.Fatalf("with --all (Options.All) a socket's role is never learned: %s role %q (firstState shows it at once, and decide runs only for held sockets)", brief(e), e.Role)
		}
	}
}

func TestModelKernelState(t *testing.T) {
	w := newWorld(t, false, true)
	p := w.launch(100, trace.Server)
	fd := w.socket(p, afInet6, sockStream, 0)
	w.bind(p, fd, "[::1]:8080")
	w.listen(p, fd)
	conn := w.accept4(p, fd, "[::1]:40000")
	w.setFact(p, conn, func(f *facts) { f.local = "[::1]:8080"; f.state = "CLOSE_WAIT" })
	w.read(p, callRead, conn, 16, "")
	w.close(p, conn)
	events := w.events()
	state := map[string]string{}
	for _, e := range events {
		if e.Phase == trace.End {
			state[e.Syscall] = e.Kernel.State
		}
		if e.Phase == trace.Begin && e.Kernel.State != "" {
			t.Errorf("%s: a Begin has a state %q", brief(e), e.Kernel.State)
		}
	}
	want := map[string]string{"socket": "", "bind": "", "listen": "LISTEN", "accept4": "ESTABLISHED", "read": "CLOSE_WAIT", "close": "TIME_WAIT"}
	if fmt.Sprint(state) != fmt.Sprint(want) {
		t.Errorf("states %v, want %v", state, want)
	}
	if want := []string{"[::1]:8080 [::1]:40000 true"}; !slices.Equal(w.k.closes, want) {
		t.Errorf("closed asked for %q, want %q", w.k.closes, want)
	}
	last := events[len(events)-1]
	if last.Kernel.Timer != 60*time.Second {
		t.Errorf("close's StateTimer %v", last.Kernel.Timer)
	}
	// The listener's close, with copies elsewhere, does not ask.
	child := w.fork(p, 200)
	w.close(child, fd)
	if len(w.k.closes) != 1 {
		t.Errorf("closed asked for a close of one copy: %q", w.k.closes)
	}
}

// Every read and write, whichever call makes it, reads the kernel's view
// after it, as the lessons' own sockets do.
func TestModelKernelStateAfterEveryReadAndWrite(t *testing.T) {
	for i := range table {
		c := &table[i]
		if c.op != trace.OpRead && c.op != trace.OpWrite {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t, false, true)
			p := w.launch(100, trace.Client)
			fd := w.socket(p, afInet, sockStream, 0)
			w.connect(p, fd, "127.0.0.1:8080", "127.0.0.1:40000", 0)
			pc := w.call(p, c, [6]uint64{uint64(fd)}, 0, nil)
			if pc == nil {
				t.Fatalf("%s on a connected socket is not shown", c)
			}
			if pc.e.Phase != trace.End || pc.e.Kernel.State != "ESTABLISHED" {
				t.Errorf("%s's %s: the kernel's view %q, want ESTABLISHED", c, pc.e.Phase, pc.e.Kernel.State)
			}
		})
	}
}

// Shutdown, getsockname and setsockopt are shown but are no step.
func TestModelOtherCalls(t *testing.T) {
	w := newWorld(t, false, false)
	p := w.launch(100, trace.Client)
	fd := w.socket(p, afInet, sockStream, 0)
	w.connect(p, fd, "127.0.0.1:8080", "127.0.0.1:40000", 0)
	w.call(p, callShutdown, [6]uint64{uint64(fd), 1}, 0, nil)
	w.call(p, callGetsockname, [6]uint64{uint64(fd), 0x10, 0x20}, 0, nil)
	w.call(p, callSetsockopt, [6]uint64{uint64(fd), 6, 1}, 0, nil)
	w.call(p, callAccept, [6]uint64{uint64(fd)}, -22, nil)
	events := w.events()[4:]
	wantBriefs(t, events,
		"client 0 shutdown begin shutdown(3)=0",
		"client 0 shutdown end shutdown(3)=0",
		"client 0 getsockname begin getsockname(3)=0",
		"client 0 getsockname end getsockname(3)=0",
		"client 0 setsockopt begin setsockopt(3)=0",
		"client 0 setsockopt end setsockopt(3)=0",
		"client 0 accept begin accept(3)=0",
		"client 0 accept end accept(3)=-1",
	)
	if events[0].Arg != "SHUT_WR" || events[4].Arg != "IPPROTO_TCP, TCP_NODELAY" {
		t.Errorf("args %q %q", events[0].Arg, events[4].Arg)
	}
	if events[3].Local != "127.0.0.1:40000" {
		t.Errorf("getsockname End local %q", events[3].Local)
	}
}

// lines shows events one a line, for a failure's message (dump, in
// trace_linux_test.go, is Linux's only).
func lines(events []trace.Event) string {
	return strings.Join(briefs(events), "\n")
}
