package ptrace

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/socklab/socklab/trace"
)

// Real programs traced: a forking Python pair, strace's view of the same
// calls, a Go net program, a C server, a kill, and exit statuses.

// needCC returns a C compiler, or skips with the reason; CI installs
// one (.ci/run), so there a missing compiler fails.
func needCC(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"cc", "gcc", "clang"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	missing(t, "a C compiler (cc)")
	return ""
}

// missing skips a test that needs what this machine lacks, saying what;
// in CI, where .ci/run installs everything the tests need, it fails.
func missing(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI lacks %s: .ci/run should have installed it", what)
	}
	t.Skipf("needs %s", what)
}

func wantExits(t *testing.T, exits []Exit, code int) {
	t.Helper()
	for _, x := range exits {
		if x.Code != code || x.Signal != 0 {
			t.Errorf("%v exited %d (signal %v), want %d", x.Argv, x.Code, x.Signal, code)
		}
	}
}

// peerEvents are the events of one peer.
func peerEvents(events []trace.Event, peer string) []trace.Event {
	var out []trace.Event
	for _, e := range events {
		if e.Peer == peer {
			out = append(out, e)
		}
	}
	return out
}

// nonzero drops the 0s (calls that are no step: getsockname, …).
func nonzero(steps []int) []int {
	var out []int
	for _, s := range steps {
		if s != 0 && (len(out) == 0 || out[len(out)-1] != s) {
			out = append(out, s)
		}
	}
	return out
}

func TestTracePairForks(t *testing.T) {
	python := needPython(t)
	events, exits, s := traced(t, Options{}, Program{Argv: []string{python, "testdata/pair.py"}, Stdin: nullStdin(t)})
	wantExits(t, exits, 0)
	if len(exits) != 1 {
		t.Fatalf("exits %+v: one program was launched", exits)
	}
	peers := map[string]trace.Role{}
	for _, e := range events {
		peers[e.Peer] = e.Role
	}
	want := map[string]trace.Role{"server": trace.Server, "server-2": trace.Server, "client": trace.Client}
	if fmt.Sprint(peers) != fmt.Sprint(want) {
		t.Fatalf("peers %v, want %v\n%s", peers, want, dump(events))
	}
	server := nonzero(stepsOf(events, "server"))
	if len(server) < 5 || !slices.Equal(server[:5], []int{1, 2, 3, 6, 8}) {
		t.Errorf("server's steps %v, want 1 2 3 6 8 first\n%s", server, dump(events))
	}
	if got, want := stepsOf(events, "client"), []int{4, 5, 7, 9, 10, 11}; !slices.Equal(got, want) {
		t.Errorf("client's steps %v, want %v\n%s", got, want, dump(events))
	}
	serverPID, clientPID := 0, 0
	for _, e := range events {
		switch e.Peer {
		case "server":
			serverPID = e.PID
		case "client":
			clientPID = e.PID
		}
	}
	if serverPID != exits[0].PID || clientPID == serverPID || clientPID == 0 {
		t.Errorf("server pid %d (program %d), client pid %d", serverPID, exits[0].PID, clientPID)
	}
	// The child's close of its copy of the listener.
	child := peerEvents(events, "server-2")
	if len(child) != 2 {
		t.Fatalf("server-2's events:\n%s", dump(child))
	}
	for _, e := range child {
		if e.Op != trace.OpClose || e.Copies < 1 || e.Step != 0 || e.PID != clientPID {
			t.Errorf("the child's close of the listener: %s copies %d pid %d", brief(e), e.Copies, e.PID)
		}
	}
	// The parent's own close of the listener comes after the child's
	// exit or not: either way the connection's last close is step 11.
	for _, e := range peerEvents(events, "server") {
		if e.Op == trace.OpClose && e.Phase == trace.End && e.Step != 11 {
			t.Errorf("the server's close: %s copies %d", brief(e), e.Copies)
		}
	}
	if open := s.LeftOpen(); len(open) != 0 {
		t.Errorf("left open: %+v", open)
	}
	if exits[0].Shown == 0 {
		t.Error("Exit.Shown is 0")
	}
}

func nullStdin(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Open(os.DevNull)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// The calls strace is asked to show, and the ones compared.
const straceCalls = "socket,bind,listen,accept,accept4,connect,sendto,recvfrom,close,read,write"

var (
	straceLineRE = regexp.MustCompile(`^(\d+)\s+(.*)$`)
	straceCallRE = regexp.MustCompile(`^(\w+)\((.*)\)\s+=\s+(-?\d+)`)
)

// A kernelCall is one call on a socket's descriptor: "accept4 3 4".
type kernelCall struct {
	name    string
	fd, ret int
}

func (c kernelCall) String() string { return fmt.Sprintf("%s(%d)=%d", c.name, c.fd, c.ret) }

// straceLog reads strace -f -o output: the calls on socket descriptors
// (from the socket or accept that made one to its close), in order, and
// the arguments of each socket call.
func straceLog(t *testing.T, path string) (calls []kernelCall, socketArgs []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string]string{} // pid → an unfinished call's start
	// live holds the open sockets: true for those socklab shows, false for
	// the local ones it hides without --all (glibc's nscd lookups over
	// AF_UNIX, netlink), whose calls are left out of the comparison. As
	// root, Python's start-up asks nscd some thirty times on the same fd 3
	// the program's own socket gets later.
	live := map[int]bool{}
	for _, line := range strings.Split(string(data), "\n") {
		m := straceLineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		pid, rest := m[1], m[2]
		if head, ok := strings.CutSuffix(rest, " <unfinished ...>"); ok {
			pending[pid] = head
			continue
		}
		if strings.HasPrefix(rest, "<... ") {
			_, tail, _ := strings.Cut(rest, " resumed>")
			rest = pending[pid] + tail
			delete(pending, pid)
		}
		c := straceCallRE.FindStringSubmatch(rest)
		if c == nil {
			continue
		}
		name, args := c[1], c[2]
		ret, _ := strconv.Atoi(c[3])
		if name == "socket" {
			shown := !strings.HasPrefix(args, "AF_UNIX") && !strings.HasPrefix(args, "AF_NETLINK")
			if ret >= 0 {
				live[ret] = shown
			}
			if shown {
				calls = append(calls, kernelCall{name, ret, ret})
				socketArgs = append(socketArgs, args)
			}
			continue
		}
		first, _, _ := strings.Cut(args, ",")
		fd, err := strconv.Atoi(strings.TrimSpace(first))
		if err != nil {
			continue
		}
		shown, open := live[fd]
		if !open {
			continue
		}
		if shown {
			calls = append(calls, kernelCall{name, fd, ret})
		}
		switch {
		case (name == "accept" || name == "accept4") && ret >= 0:
			live[ret] = shown
		case name == "close":
			delete(live, fd)
		}
	}
	return calls, socketArgs
}

// listeningOn reports whether something listens on TCP port on this
// machine, from the kernel's table (a connect would be accepted).
func listeningOn(port int) bool {
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 4 || fields[3] != "0A" { // TCP_LISTEN
				continue
			}
			_, p, ok := strings.Cut(fields[1], ":")
			if n, err := strconv.ParseUint(p, 16, 16); ok && err == nil && int(n) == port {
				f.Close()
				return true
			}
		}
		f.Close()
	}
	return false
}

// The same Python pair under strace and under socklab's tracer: per
// process, the calls on the descriptors socklab shows are the calls
// strace saw on them, with the same results, in the same order.
func TestTracePairAgreesWithStrace(t *testing.T) {
	python := needPython(t)
	strace, err := exec.LookPath("strace")
	if err != nil {
		missing(t, "strace")
	}
	dir := t.TempDir()

	// Under strace: the server, then the client once it listens.
	port := freePort(t)
	portN, _ := strconv.Atoi(port)
	serverLog, clientLog := filepath.Join(dir, "server.log"), filepath.Join(dir, "client.log")
	straced := func(log string, argv ...string) *exec.Cmd {
		return exec.Command(strace, append([]string{"-f", "-qq", "-e", "trace=" + straceCalls, "-o", log}, argv...)...)
	}
	srv := straced(serverLog, python, "testdata/server.py", port)
	srv.Stdin = replyFile(t, "got it\n")
	var srvErr strings.Builder
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	deadline := time.Now().Add(10 * time.Second)
	for !listeningOn(portN) {
		if time.Now().After(deadline) {
			t.Fatalf("the server under strace did not listen within 10 s: %s", srvErr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := straced(clientLog, python, "testdata/client.py", port).CombinedOutput(); err != nil {
		if strings.Contains(string(out), "ptrace") {
			t.Skipf("strace cannot trace here: %s", out)
		}
		t.Fatalf("client under strace: %v\n%s", err, out)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("server under strace: %v\n%s", err, srvErr.String())
	}

	// Under socklab.
	port = freePort(t)
	events, exits, _ := traced(t, Options{},
		Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: replyFile(t, "got it\n")},
		Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client, Stdin: nullStdin(t)})
	wantExits(t, exits, 0)

	compared := map[string]bool{}
	for _, name := range strings.Split(straceCalls, ",") {
		compared[name] = true
	}
	for _, tt := range []struct{ peer, log string }{{"server", serverLog}, {"client", clientLog}} {
		t.Run(tt.peer, func(t *testing.T) {
			var ours []kernelCall
			var ourArgs []string
			fds := map[int]bool{}
			for _, e := range peerEvents(events, tt.peer) {
				if e.Phase != trace.End || !compared[e.Syscall] {
					continue
				}
				ours = append(ours, kernelCall{e.Syscall, e.FD, e.Ret})
				fds[e.FD] = true
				if e.Op == trace.OpCreate {
					// The Begin's Arg: the same on the End.
					ourArgs = append(ourArgs, e.Arg)
				}
			}
			if len(ours) == 0 {
				t.Fatalf("socklab traced nothing for the %s:\n%s", tt.peer, dump(events))
			}
			all, theirArgs := straceLog(t, tt.log)
			var theirs []kernelCall
			for _, c := range all {
				if fds[c.fd] {
					theirs = append(theirs, c)
				}
			}
			if testing.Verbose() {
				t.Logf("compared %v", ours)
			}
			if !slices.Equal(ours, theirs) {
				t.Errorf("socklab traced\n\t%v\nstrace saw\n\t%v\n(strace's every socket call: %v)", ours, theirs, all)
			}
			if !slices.Equal(ourArgs, theirArgs) {
				t.Errorf("socket's arguments: socklab %q, strace %q", ourArgs, theirArgs)
			}
		})
	}
}

// buildGo builds the Go program in testdata/dir into a temporary
// directory.
func buildGo(t *testing.T, dir string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		missing(t, "the go command")
	}
	bin := filepath.Join(t.TempDir(), dir)
	cmd := exec.Command(gobin, "build", "-o", bin, "./testdata/"+dir)
	// The program is built as a user would build it, whatever flags
	// the test run has.
	cmd.Env = append(os.Environ(), "GOFLAGS=", "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func TestTraceGoNet(t *testing.T) {
	bin := buildGo(t, "gonet")
	events, exits, _ := traced(t, Options{}, Program{Argv: []string{bin}, Stdin: nullStdin(t)})
	wantExits(t, exits, 0)
	server, client := peerEvents(events, "server"), peerEvents(events, "client")
	var listenAddr string
	var listened, again, acceptedAfter bool
	for _, e := range server {
		if e.Phase != trace.End {
			continue
		}
		switch e.Op {
		case trace.OpListen:
			listened = e.Err == nil && e.Step == 3 && e.Kernel.State == "LISTEN"
		case trace.OpAccept:
			if !e.Nonblock {
				t.Errorf("Go's accept is not shown non-blocking: %s", brief(e))
			}
			switch {
			case e.Errno == "EAGAIN":
				again = e.Step == 6
			case e.Err == nil && again:
				acceptedAfter = e.Step == 8 && e.Ret > 0 && e.Remote != ""
				listenAddr = e.Local // bound to port 0: the kernel's port
			}
		}
	}
	if !listened || !again || !acceptedAfter {
		t.Errorf("listen %v, accept EAGAIN %v, accept after it %v:\n%s", listened, again, acceptedAfter, dump(events))
	}
	var connected bool
	for _, e := range client {
		if e.Op == trace.OpConnect && e.Phase == trace.Begin {
			connected = e.Remote == listenAddr && e.Step == 5 && listenAddr != ""
		}
	}
	if !connected {
		t.Errorf("the client's connect to %q is not shown:\n%s", listenAddr, dump(events))
	}
	for _, e := range events {
		if e.Peer != "server" && e.Peer != "client" {
			t.Errorf("an event of %q (Go's probes are noise): %s", e.Peer, brief(e))
		}
	}
	if testing.Verbose() {
		t.Logf("\n%s", dump(events))
	}
}

func TestTraceCServer(t *testing.T) {
	python := needPython(t)
	cc := needCC(t)
	bin := filepath.Join(t.TempDir(), "cserver")
	if out, err := exec.Command(cc, "-o", bin, "testdata/cserver.c").CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cc, err, out)
	}
	port := freePort(t)
	events, exits, _ := traced(t, Options{},
		Program{Argv: []string{bin, port}, Role: trace.Server},
		Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client, Stdin: nullStdin(t)})
	wantExits(t, exits, 0)
	if got, want := nonzero(stepsOf(events, "server")), []int{1, 2, 3, 6, 8, 10, 9, 10, 11}; !slices.Equal(got, want) {
		t.Errorf("the C server's steps %v, want %v\n%s", got, want, dump(events))
	}
	if got, want := nonzero(stepsOf(events, "client")), []int{4, 5, 7, 9, 10, 11}; !slices.Equal(got, want) {
		t.Errorf("the client's steps %v, want %v\n%s", got, want, dump(events))
	}
	for _, e := range peerEvents(events, "server") {
		if e.Phase != trace.End {
			continue
		}
		switch e.Op {
		case trace.OpCreate:
			if e.Arg != "AF_INET, SOCK_STREAM, IPPROTO_IP" {
				t.Errorf("socket's Arg %q", e.Arg)
			}
		case trace.OpAccept:
			if e.Syscall != "accept" && e.Syscall != "accept4" {
				t.Errorf("accept's Syscall %q", e.Syscall)
			}
		case trace.OpRead, trace.OpWrite:
			if e.Syscall != "read" && e.Syscall != "write" {
				t.Errorf("C's %s is shown as %q", e.Op, e.Syscall)
			}
			if e.Op == trace.OpWrite && string(e.Data) != "got it" {
				t.Errorf("write's data %q", e.Data)
			}
			if e.Op == trace.OpRead && e.Ret > 0 && string(e.Data) != "你好, server" {
				t.Errorf("read's data %q", e.Data)
			}
		}
	}
}

func TestTraceKill(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	portN, _ := strconv.Atoi(port)
	rec := &trace.Recorder{}
	listening := make(chan int, 1)
	s, err := Start(trace.New(rec), Options{Listening: func(pid int) {
		select {
		case listening <- pid:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	pid, err := s.Launch(Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: nullStdin(t)})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-listening:
		if got != pid {
			t.Errorf("Listening(%d), want the server's pid %d", got, pid)
		}
	case <-time.After(10 * time.Second):
		s.Kill()
		t.Fatal("the server did not listen within 10 s")
	}
	s.Kill()
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the session did not end within 5 s of Kill")
	}
	exits := s.Wait()
	if len(exits) != 1 || !exits[0].Killed || exits[0].Signal != syscall.SIGKILL || exits[0].Code != 128+9 || exits[0].PID != pid {
		t.Errorf("exits %+v", exits)
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
		c.Close()
		t.Error("something still listens on the killed server's port")
	}
	if listeningOn(portN) {
		t.Error("the kernel's table still has the listener")
	}
	// The killed process's sockets were never closed by a call.
	if open := s.LeftOpen(); len(open) != 1 || !open[0].Listening || open[0].Peer != "server" || open[0].PID != pid {
		t.Errorf("left open %+v, want the listener", open)
	}
	// Kill and Signal after the end do nothing, and do not block.
	done := make(chan struct{})
	go func() { s.Kill(); s.Signal(syscall.SIGINT); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Error("Kill after the end blocked")
	}
}

// startWaiting launches testdata/sigint_server.py (args after the port)
// and returns once its accept has begun and been let into the kernel.
func startWaiting(t *testing.T, args ...string) (*Session, *countedRecorder, int) {
	t.Helper()
	python := realPython(t)
	port := freePort(t)
	rec := &countedRecorder{}
	s, err := Start(trace.New(rec), Options{})
	if err != nil {
		t.Fatal(err)
	}
	pid, err := s.Launch(Program{Argv: append([]string{python, "testdata/sigint_server.py", port}, args...),
		Role: trace.Server, Stdin: nullStdin(t), Stdout: nullOutput(t)})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.Blocked(pid) != trace.OpAccept {
		if time.Now().After(deadline) {
			// What the session waits for: a thread still starting has
			// not had its first stop handled.
			s.do(func() {
				for tid, th := range s.threads {
					t.Logf("thread %d proc %d starting=%v optionsSet=%v fresh=%v inCall=%v", tid, th.proc.pid, th.starting, th.optionsSet, th.fresh, th.inCall != nil)
				}
			})
			s.Kill()
			<-s.Done()
			t.Fatalf("no accept within 10 s:\n%s", dump(rec.events()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // asleep in the kernel by now
	return s, rec, pid
}

// realPython is the interpreter itself, not a shim (pyenv's is a shell
// script whose children's SIGCHLDs reach the program).
func realPython(t *testing.T) string {
	t.Helper()
	out, err := exec.Command(needPython(t), "-c", "import sys; print(sys.executable)").Output()
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(out))
}

// interruptedAccept checks the accept's End: the kernel's ERESTARTSYS is
// shown as the EINTR the program sees, with the signal's name.
func interruptedAccept(t *testing.T, s *Session, rec *countedRecorder) {
	t.Helper()
	var end *trace.Event
	events := rec.events()
	for i := range events {
		if events[i].Op == trace.OpAccept && events[i].Phase == trace.End {
			end = &events[i]
		}
	}
	if end == nil || end.Errno != "EINTR" || end.Signal != "SIGINT" || end.Ret != -1 || end.Step != 6 || end.Err == nil {
		t.Errorf("the interrupted accept's End: %+v\n%s", end, dump(events))
	}
	if exits := s.Wait(); len(exits) != 1 || exits[0].Code != 3 || exits[0].Killed {
		t.Errorf("exits %+v, want status 3 (KeyboardInterrupt caught)", exits)
	}
}

// A SIGINT that reaches the program itself (a Ctrl-C at the terminal)
// interrupts its accept.
func TestTraceSignalInterruptsAccept(t *testing.T) {
	s, rec, pid := startWaiting(t)
	if err := unix.Kill(pid, unix.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		s.Kill()
		<-s.Done()
		t.Fatal("SIGINT did not end the server")
	}
	interruptedAccept(t, s, rec)
}

// Session.Signal passes a signal on to a program it did not reach: so
// socklab trace stops a server that serves for ever. A program that saw
// another signal before must get it too: a SIGCHLD (the server ran a
// command), or the SIGURG that Go's runtime sometimes sends itself in
// socklab's tracee helper before the exec (so "plain" fails now and
// then too).
func TestSessionSignalForwards(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
	}{{"plain", nil}, {"after a SIGCHLD", []string{"--spawn"}}} {
		t.Run(tt.name, func(t *testing.T) {
			s, rec, _ := startWaiting(t, tt.args...)
			s.Signal(syscall.SIGINT)
			select {
			case <-s.Done():
			case <-time.After(3 * time.Second):
				s.Kill()
				<-s.Done()
				t.Fatal("Session.Signal did not pass SIGINT on: Session.signals marks a pid that saw any signal (a SIGCHLD, the helper's SIGURG), and Signal then skips it")
			}
			interruptedAccept(t, s, rec)
		})
	}
}

func nullOutput(t *testing.T) *os.File {
	t.Helper()
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// countedRecorder is a Recorder that may be polled while the trace runs:
// a Recorder's Events must not be called before its first event (see
// TestRecorderEventsBeforeHandle: the tracing thread's next Handle would
// panic).
type countedRecorder struct {
	trace.Recorder
	n atomic.Int64
}

func (r *countedRecorder) Handle(e trace.Event) error {
	err := r.Recorder.Handle(e)
	r.n.Add(1)
	return err
}

func (r *countedRecorder) events() []trace.Event {
	if r.n.Load() == 0 {
		return nil
	}
	return r.Events()
}

// leaveOpen is a client that sends and leaves without a close: not even
// Python's own at exit (noclose_client.py's socket is closed by the
// interpreter's clean-up, a close call).
const leaveOpen = `import os, socket, sys
c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
c.connect(("127.0.0.1", int(sys.argv[1])))
c.sendall(b"hello")
os._exit(0)`

// A client that never closes: its exit closes the socket, which the
// session reports as left open.
func TestTraceLeftOpen(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	events, exits, s := traced(t, Options{},
		Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: replyFile(t, "bye\n"), Stdout: nullOutput(t), Stderr: nullOutput(t)},
		Program{Argv: []string{python, "-c", leaveOpen, port}, Role: trace.Client, Stdin: nullStdin(t)})
	open := s.LeftOpen()
	var clientPID int
	for _, e := range events {
		if e.Peer == "client" {
			clientPID = e.PID
		}
		if e.Peer == "client" && e.Op == trace.OpClose {
			t.Errorf("the client closed: %s", brief(e))
		}
	}
	if len(open) != 1 || open[0].Peer != "client" || open[0].PID != clientPID || open[0].FD != 3 || open[0].Kind != "tcp" || open[0].Listening {
		t.Errorf("left open %+v\n%s", open, dump(events))
	}
	// The server may see a reset (its reply to a gone client): its exit
	// status is not this test's.
	if len(exits) != 2 || exits[1].Code != 0 {
		t.Errorf("exits %+v", exits)
	}
}

func TestTraceExitStatus(t *testing.T) {
	python := needPython(t)
	_, exits, _ := traced(t, Options{}, Program{Argv: []string{python, "-c", "import sys; sys.exit(3)"}})
	if len(exits) != 1 || exits[0].Code != 3 || exits[0].Signal != 0 || exits[0].Killed || exits[0].Shown != 0 {
		t.Errorf("sys.exit(3): %+v", exits)
	}
	_, exits, _ = traced(t, Options{}, Program{Argv: []string{"sh", "-c", "kill -TERM $$"}})
	if len(exits) != 1 || exits[0].Code != 143 || exits[0].Signal != syscall.SIGTERM || exits[0].Killed {
		t.Errorf("kill -TERM $$: %+v", exits)
	}
	if len(exits) == 1 && !slices.Equal(exits[0].Argv, []string{"sh", "-c", "kill -TERM $$"}) {
		t.Errorf("Exit.Argv %q", exits[0].Argv)
	}
}

func TestResolve(t *testing.T) {
	if _, err := Resolve("no-such-cmd-xyz"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve(no-such-cmd-xyz) = %v, want ErrNotFound", err)
	}
	dir := t.TempDir()
	if _, err := Resolve(filepath.Join(dir, "missing")); !errors.Is(err, ErrNotFound) {
		t.Errorf("Resolve of a missing path = %v, want ErrNotFound", err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(plain); !errors.Is(err, ErrNotExecutable) {
		t.Errorf("Resolve of a mode 0644 file = %v, want ErrNotExecutable", err)
	}
	script := filepath.Join(dir, "script")
	if err := os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if path, err := Resolve(script); err != nil || path != script {
		t.Errorf("Resolve of an executable = %q, %v", path, err)
	}
	if path, err := Resolve("sh"); err != nil || !filepath.IsAbs(path) {
		t.Errorf("Resolve(sh) = %q, %v", path, err)
	}
	// A directory cannot be run: a shell says so with status 126, the
	// status of a command that is not executable.
	if _, err := Resolve(dir); !errors.Is(err, ErrNotExecutable) {
		t.Fatalf("Resolve of a directory = %v, neither ErrNotFound nor ErrNotExecutable (exec.LookPath's EISDIR falls through)", err)
	}
}

// sockaddrString shows the kernel's addresses as sockaddr shows a
// program's.
func TestSockaddrString(t *testing.T) {
	ll := [16]byte{0: 0xfe, 1: 0x80, 15: 1}
	for _, tt := range []struct {
		sa   unix.Sockaddr
		want string
	}{
		{&unix.SockaddrInet4{Port: 8080, Addr: [4]byte{127, 0, 0, 1}}, "127.0.0.1:8080"},
		{&unix.SockaddrInet6{Port: 443, Addr: [16]byte{15: 1}}, "[::1]:443"},
		{&unix.SockaddrInet6{Port: 22, Addr: ll, ZoneId: 2}, "[fe80::1%2]:22"},
		{&unix.SockaddrUnix{Name: "/tmp/x.sock"}, "/tmp/x.sock"},
		{&unix.SockaddrUnix{Name: "@abstract"}, "@abstract"},
		{&unix.SockaddrUnix{Name: ""}, "(unnamed)"},
		{&unix.SockaddrUnix{Name: "/tmp/a\nb"}, `"/tmp/a\nb"`},
		{&unix.SockaddrNetlink{}, ""},
	} {
		if got := sockaddrString(tt.sa); got != tt.want {
			t.Errorf("sockaddrString(%+v) = %q, want %q", tt.sa, got, tt.want)
		}
	}
	// An interface index above 255 (a container host's veth).
	sa := &unix.SockaddrInet6{Port: 22, Addr: ll, ZoneId: 300}
	if got, want := sockaddrString(sa), "[fe80::1%300]:22"; got != want {
		t.Fatalf("sockaddrString keeps the low byte of the zone id: got %q, want %q", got, want)
	}
}

// The kernel's answers for this process's own sockets.
func TestProcKernel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := &Session{pidfds: map[int]int{}}
	s.model = newModel(nil, (*procKernel)(s), processMemory{}, false, false)
	k := (*procKernel)(s)
	defer func() {
		for _, fd := range s.pidfds {
			unix.Close(fd)
		}
	}()
	pid, fd := os.Getpid(), int(f.Fd())
	ino, ok := k.inode(pid, fd)
	if !ok || ino == 0 {
		t.Fatalf("inode of a socket: %d, %v", ino, ok)
	}
	if _, ok := k.inode(pid, 0); ok && !isSocket(0) {
		t.Error("standard input is a socket?")
	}
	if _, ok := k.inode(pid, 1<<20); ok {
		t.Error("a descriptor that does not exist is a socket")
	}
	fa := k.facts(pid, fd, true)
	if !fa.ok || fa.family != afInet || fa.typ != sockStream || !fa.listening || fa.local != ln.Addr().String() || fa.remote != "" {
		t.Errorf("facts %+v (listener at %s)", fa, ln.Addr())
	}
	if fa.state != "LISTEN" {
		t.Errorf("state %q, want LISTEN", fa.state)
	}
	// ln's own descriptor and the File's duplicate: one copy besides fd.
	s.model.forked(pid, nil, 0, "")
	if n := k.copies(ino, pid, fd); n != 1 {
		t.Errorf("copies %d, want 1 (the listener's own descriptor)", n)
	}
	if got := k.errnoName(111); got != "ECONNREFUSED" {
		t.Errorf("errnoName(111) = %q", got)
	}
	if got := k.errnoName(4000); got != "E4000" {
		t.Errorf("errnoName(4000) = %q", got)
	}
	// The memory of this process, read as a tracee's.
	b := []byte("socklab")
	got := make([]byte, len(b))
	if n, err := (processMemory{}).read(pid, uint64(uintptr(unsafe.Pointer(&b[0]))), got); err != nil || n != len(b) || string(got) != "socklab" {
		t.Errorf("processMemory.read = %d, %v, %q", n, err, got)
	}
	runtime.KeepAlive(b)
	if n, err := (processMemory{}).read(pid, 0, got); err == nil || n != 0 {
		t.Errorf("processMemory.read of address 0 = %d, %v", n, err)
	}
}

func isSocket(fd int) bool {
	var st unix.Stat_t
	return unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFSOCK
}
