package ptrace

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
)

// Programs whose sockets are non-blocking, traced: where each waits
// (poll, epoll_wait), its step 7 where it learns it is connected, no
// "blocks" on a non-blocking call, the kernel's O_NONBLOCK at every call,
// strace's view of the same calls, and --expect basic.

// A waitRun is one traced run of a server and its clients.
type waitRun struct {
	events []trace.Event
	text   string // the text sink's lines (en)
	exits  []Exit
}

// syncBuffer is a bytes.Buffer for a sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// traceWaits runs server and then, once it listens, the clients, and
// checks at every socket call that the model's O_NONBLOCK is the
// kernel's (/proc/PID/fdinfo/N). With stop, the server is stopped once
// the clients have ended (it serves for ever).
func traceWaits(t *testing.T, stop bool, server Program, clients ...Program) waitRun {
	t.Helper()
	rec := &trace.Recorder{DataLimit: -1}
	var text syncBuffer
	listening := make(chan struct{}, 1)
	s, err := Start(trace.New(trace.Multi(rec, trace.NewTextSink(&text, &trace.TextOptions{}))), Options{KernelState: true,
		Listening: func(int) {
			select {
			case listening <- struct{}{}:
			default:
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	var wrong []string
	s.do(func() {
		s.model.verifyNonblock = func(pid, fd int, nonblock bool) {
			if kernel, ok := fdinfoNonblock(pid, fd); ok && kernel != nonblock {
				wrong = append(wrong, fmt.Sprintf("pid %d fd %d: model %v, kernel %v", pid, fd, nonblock, kernel))
			}
		}
	})
	quiet := nullOutput(t)
	if server.Stdout == nil {
		server.Stdout, server.Stderr = quiet, quiet
	}
	if server.Stdin == nil {
		server.Stdin = nullStdin(t)
	}
	if _, err := s.Launch(server); err != nil {
		t.Fatal(err)
	}
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		s.Kill()
		<-s.Done()
		t.Fatalf("the server did not listen within 10 s:\n%s", dump(rec.Events()))
	}
	var pids []int
	for _, c := range clients {
		c.Stdin, c.Stdout, c.Stderr = nullStdin(t), quiet, quiet
		pid, err := s.Launch(c)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	deadline := time.After(20 * time.Second)
	if stop {
		for !s.Ended(pids...) {
			select {
			case <-deadline:
				s.Kill()
				<-s.Done()
				t.Fatalf("the clients did not end within 20 s:\n%s", dump(rec.Events()))
			case <-time.After(20 * time.Millisecond):
			}
		}
		s.Kill()
	}
	select {
	case <-s.Done():
	case <-deadline:
		s.Kill()
		<-s.Done()
		t.Fatalf("the programs did not end within 20 s:\n%s", dump(rec.Events()))
	}
	run := waitRun{events: rec.Events(), exits: s.Wait()}
	text.mu.Lock()
	run.text = text.b.String()
	text.mu.Unlock()
	if len(wrong) > 0 {
		t.Errorf("the model's O_NONBLOCK is not the kernel's at %d calls: %v", len(wrong), wrong)
	}
	return run
}

// fdinfoNonblock reads O_NONBLOCK from /proc/PID/fdinfo/FD.
func fdinfoNonblock(pid, fd int) (nonblock, ok bool) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/fdinfo/" + strconv.Itoa(fd))
	if err != nil {
		return false, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, found := strings.CutPrefix(line, "flags:"); found {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return flags&oNonblock != 0, err == nil
		}
	}
	return false, false
}

// want checks what every run must show: the waits of the peers waiting
// (a wait with a socket in it), the client's step 7 (the call that
// learns it, connectedBy), no line of a peer whose sockets are all
// non-blocking that says it blocks, and the basic lesson's story.
func (r waitRun) want(t *testing.T, waiting, nonblocking []string, connectedBy string) {
	t.Helper()
	for _, peer := range waiting {
		var seen bool
		for _, e := range peerEvents(r.events, peer) {
			if e.Op == trace.OpPoll && e.Phase == trace.Begin && slices.ContainsFunc(e.Waits, func(w trace.Wait) bool { return w.Socket }) {
				seen = true
			}
		}
		if !seen {
			t.Errorf("no wait of the %s's shown:\n%s", peer, r.text)
		}
	}
	clients := map[string]string{} // each client's step 7, by the call
	for _, e := range r.events {
		if e.Role == trace.Client {
			if _, ok := clients[e.Peer]; !ok {
				clients[e.Peer] = ""
			}
			if e.Phase == trace.End && e.Step == 7 && clients[e.Peer] == "" {
				clients[e.Peer] = e.Syscall
			}
		}
	}
	for peer, by := range clients {
		if connectedBy != "" && by != connectedBy {
			t.Errorf("the %s's step 7 is %q, want %q:\n%s", peer, by, connectedBy, r.text)
		}
	}
	// A blocking call's Begin may say it blocks; a non-blocking one's
	// never has a line of its own (its O_NONBLOCK is checked against the
	// kernel's at every call, see traceWaits), and no peer whose sockets
	// are all non-blocking says it blocks.
	for _, line := range strings.Split(r.text, "\n") {
		fields := strings.Fields(line)
		if len(fields) > 1 && slices.Contains(nonblocking, fields[1]) && strings.Contains(line, "blocks:") {
			t.Errorf("a non-blocking program's line says it blocks: %s", line)
		}
	}
	for _, e := range r.events {
		if e.Phase == trace.Begin && e.Nonblock && e.Op.Blocks() && e.Op != trace.OpPoll && e.QueueKnown {
			t.Errorf("a non-blocking call's Begin says what it will wait for: %s", brief(e))
		}
	}
	if len(clients) != 1 {
		return // the basic lesson's story is a pair's
	}
	basic, _ := lessons.Lookup("basic")
	if rep := basic.Expect.Check(r.events); !rep.OK() {
		for _, c := range rep.Calls {
			if c.Seen == nil && !c.Optional {
				t.Errorf("--expect basic: %s %s (%s) missing", c.Peer, c.Op, c.What)
			}
		}
		for _, c := range rep.Checks {
			if c.Checked && !c.OK {
				t.Errorf("--expect basic: rule %v broken", c.Rule)
			}
		}
	}
}

func TestWaitsSettimeoutClient(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	r := traceWaits(t, false,
		Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: replyFile(t, "got it\n")},
		Program{Argv: []string{python, "testdata/settimeout_client.py", port}, Role: trace.Client})
	wantExits(t, r.exits, 0)
	r.want(t, []string{"client"}, []string{"client"}, "getsockopt")
	var fionbio, inprogress bool
	for _, e := range peerEvents(r.events, "client") {
		switch {
		case e.Op == trace.OpIoctl && e.Phase == trace.End:
			fionbio = e.Command == "FIONBIO" && e.Value == 1 && e.Err == nil
		case e.Op == trace.OpConnect && e.Phase == trace.End:
			inprogress = e.Errno == "EINPROGRESS" && e.Step == 5 && e.Nonblock
		}
	}
	if !fionbio || !inprogress {
		t.Errorf("ioctl FIONBIO %v, connect EINPROGRESS (step 5) %v:\n%s", fionbio, inprogress, r.text)
	}
	// The tutorial's server is blocking: its accept's Begin says what the
	// kernel's queue held.
	if e, ok := trace.Find(r.events, trace.BeginOf("server", trace.OpAccept)); !ok || !e.QueueKnown || e.Nonblock {
		t.Errorf("the server's accept Begin: queue known %v, non-blocking %v", e.QueueKnown, e.Nonblock)
	}
	if testing.Verbose() {
		t.Logf("\n%s", r.text)
	}
}

// A non-blocking client that never asks SO_ERROR learns it is connected
// by its first send that moves bytes: that send's End is step 7.
func TestWaitsConnectedByFirstSend(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	r := traceWaits(t, false,
		Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: replyFile(t, "got it\n")},
		Program{Argv: []string{python, "testdata/nosoerror_client.py", port}, Role: trace.Client})
	wantExits(t, r.exits, 0)
	r.want(t, nil, nil, "sendto")
	if !strings.Contains(r.text, "the first bytes moved") {
		t.Errorf("no line says the first send found the connection done:\n%s", r.text)
	}
}

// A selectors server (epoll) and two settimeout clients: the server's
// one thread waits in epoll_wait for its listener and its connections.
func TestWaitsSelectorsServer(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	r := traceWaits(t, false,
		Program{Argv: []string{python, "testdata/selectors_server.py", port, "2"}, Role: trace.Server},
		Program{Argv: []string{python, "testdata/settimeout_client.py", port}, Role: trace.Client},
		Program{Argv: []string{python, "testdata/settimeout_client.py", port}, Role: trace.Client})
	wantExits(t, r.exits, 0)
	r.want(t, []string{"server", "client", "client-2"}, []string{"server", "client", "client-2"}, "getsockopt")
	// The epoll set is shown being built, and a wait names the listener
	// and a connection at once.
	var created, both bool
	for _, e := range peerEvents(r.events, "server") {
		if e.Op == trace.OpEpollCreate && e.Phase == trace.End {
			created = true
		}
		if e.Op == trace.OpPoll && e.Phase == trace.Begin && len(e.Waits) == 2 && e.Waits[0].Listens != e.Waits[1].Listens {
			both = true
		}
	}
	if !created || !both {
		t.Errorf("epoll_create shown %v, a wait on the listener and a connection %v:\n%s", created, both, r.text)
	}
	if testing.Verbose() {
		t.Logf("\n%s", r.text)
	}
}

func TestWaitsAsyncioPair(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	r := traceWaits(t, false,
		Program{Argv: []string{python, "testdata/asyncio_server.py", port}, Role: trace.Server},
		Program{Argv: []string{python, "testdata/asyncio_client.py", port}, Role: trace.Client})
	wantExits(t, r.exits, 0)
	r.want(t, []string{"server", "client"}, []string{"server", "client"}, "getsockopt")
}

func TestWaitsCEpollServer(t *testing.T) {
	python := needPython(t)
	cc := needCC(t)
	bin := filepath.Join(t.TempDir(), "cepoll")
	if out, err := exec.Command(cc, "-o", bin, "testdata/cepoll.c").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	port := freePort(t)
	r := traceWaits(t, false,
		Program{Argv: []string{bin, port, "1"}, Role: trace.Server},
		Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client})
	wantExits(t, r.exits, 0)
	r.want(t, []string{"server"}, []string{"server"}, "connect")
}

// Go's net: its sockets are non-blocking and its runtime waits in
// epoll_pwait for all of them; the client's connect is learnt by
// SO_ERROR.
func TestWaitsGoPair(t *testing.T) {
	bin := buildGo(t, "gopair")
	port := freePort(t)
	r := traceWaits(t, false,
		Program{Argv: []string{bin, "server", port}, Role: trace.Server},
		Program{Argv: []string{bin, "client", port}, Role: trace.Client})
	wantExits(t, r.exits, 0)
	r.want(t, []string{"server", "client"}, []string{"server", "client"}, "getsockopt")
}

// python3 -m http.server waits in poll (socketserver's serve_forever);
// curl connects non-blocking and polls.
func TestWaitsHTTPServerCurl(t *testing.T) {
	python := needPython(t)
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("needs curl (.ci/run does not install it)")
	}
	port := freePort(t)
	r := traceWaits(t, true,
		Program{Argv: []string{python, "-m", "http.server", "--bind", "127.0.0.1", port}, Role: trace.Server, Dir: t.TempDir()},
		Program{Argv: []string{curl, "-s", "-o", "/dev/null", "http://127.0.0.1:" + port + "/"}, Role: trace.Client})
	r.want(t, []string{"server", "client"}, []string{"client"}, "getsockopt")
}

// The calls compared with strace: the socket calls, the non-blocking
// ones, and the waits.
const straceWaitCalls = straceCalls + ",ioctl,getsockopt,poll,epoll_wait,epoll_pwait,epoll_ctl"

// A wait in strace's log: "poll([{fd=3, events=POLLOUT}], 1, 5000) = 1";
// an epoll_ctl: "epoll_ctl(3, EPOLL_CTL_ADD, 4, {…}) = 0".
var (
	straceWaitRE = regexp.MustCompile(`^(poll|epoll_wait|epoll_pwait)\((.*)\)\s+=\s+(-?\d+)`)
	straceCtlRE  = regexp.MustCompile(`^epoll_ctl\(\d+, (EPOLL_CTL_\w+), (\d+), .*\)\s+=\s+(-?\d+)`)
)

// straceWaits reads the waits of strace -f -o output, in order, as
// "poll=1", leaving out the looks (timeout 0) that found nothing, as
// socklab does, and the epoll_ctl calls on the descriptors fds, as
// "EPOLL_CTL_ADD 4=0".
func straceWaits(t *testing.T, path string, fds map[int]bool) (waits, ctls []string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string]string{}
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
		if c := straceCtlRE.FindStringSubmatch(rest); c != nil {
			if fd, _ := strconv.Atoi(c[2]); fds[fd] {
				ctls = append(ctls, c[1]+" "+c[2]+"="+c[3])
			}
			continue
		}
		w := straceWaitRE.FindStringSubmatch(rest)
		if w == nil {
			continue
		}
		args := strings.Split(w[2], ", ")
		timeout := strings.TrimSpace(args[len(args)-1])
		if w[1] == "epoll_pwait" && len(args) >= 3 {
			timeout = strings.TrimSpace(args[len(args)-3])
		}
		if timeout == "0" && w[3] == "0" {
			continue
		}
		waits = append(waits, w[1]+"="+w[3])
	}
	return waits, ctls
}

// The same programs under strace and under socklab: per process, the
// calls on the descriptors socklab shows are the calls strace saw on
// them (the socket calls, ioctl FIONBIO, getsockopt SO_ERROR), with the
// same results, in the same order, and so are the waits and the
// epoll_ctl calls on those descriptors.
func TestWaitsAgreeWithStrace(t *testing.T) {
	python := needPython(t)
	strace, err := exec.LookPath("strace")
	if err != nil {
		missing(t, "strace")
	}
	cepoll := ""
	if cc, err := exec.LookPath("cc"); err == nil {
		cepoll = filepath.Join(t.TempDir(), "cepoll")
		if out, err := exec.Command(cc, "-o", cepoll, "testdata/cepoll.c").CombinedOutput(); err != nil {
			t.Fatalf("cc: %v\n%s", err, out)
		}
	}
	// Go's net is left out: its runtime's waits and EAGAINs depend on
	// timing from run to run (TestWaitsGoPair checks its trace).
	for _, tt := range []struct {
		name           string
		server, client []string
	}{
		{"settimeout", []string{python, "testdata/server.py"}, []string{python, "testdata/settimeout_client.py"}},
		{"selectors", []string{python, "testdata/selectors_server.py"}, []string{python, "testdata/settimeout_client.py"}},
		{"asyncio", []string{python, "testdata/asyncio_server.py"}, []string{python, "testdata/asyncio_client.py"}},
		{"c-epoll", []string{cepoll}, []string{python, "testdata/client.py"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.server[0] == "" {
				missing(t, "a C compiler")
			}
			dir := t.TempDir()
			port := freePort(t)
			portN, _ := strconv.Atoi(port)
			serverLog, clientLog := filepath.Join(dir, "server.log"), filepath.Join(dir, "client.log")
			straced := func(log string, argv ...string) *exec.Cmd {
				return exec.Command(strace, append([]string{"-f", "-qq", "-e", "trace=" + straceWaitCalls, "-o", log}, argv...)...)
			}
			srv := straced(serverLog, append(slices.Clone(tt.server), port)...)
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
			if out, err := straced(clientLog, append(slices.Clone(tt.client), port)...).CombinedOutput(); err != nil {
				if strings.Contains(string(out), "ptrace") {
					t.Skipf("strace cannot trace here: %s", out)
				}
				t.Fatalf("client under strace: %v\n%s", err, out)
			}
			done := make(chan error, 1)
			go func() { done <- srv.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("server under strace: %v\n%s", err, srvErr.String())
				}
			case <-time.After(10 * time.Second):
				t.Fatal("the server under strace did not end within 10 s")
			}

			port = freePort(t)
			r := traceWaits(t, false,
				Program{Argv: append(slices.Clone(tt.server), port), Role: trace.Server, Stdin: replyFile(t, "got it\n")},
				Program{Argv: append(slices.Clone(tt.client), port), Role: trace.Client})
			wantExits(t, r.exits, 0)
			r.want(t, nil, nil, "")
			compared := map[string]bool{}
			for _, name := range strings.Split(straceWaitCalls, ",") {
				compared[name] = true
			}
			for _, p := range []struct{ peer, log string }{{"server", serverLog}, {"client", clientLog}} {
				var ours []kernelCall
				var ourWaits, ourCtls []string
				fds := map[int]bool{}
				for _, e := range peerEvents(r.events, p.peer) {
					switch {
					case e.Phase != trace.End || !compared[e.Syscall]:
					case e.Op == trace.OpPoll:
						ourWaits = append(ourWaits, e.Syscall+"="+strconv.Itoa(e.Ret))
					case e.Op == trace.OpEpollCtl:
						ourCtls = append(ourCtls, e.Command+" "+strconv.Itoa(e.Waits[0].FD)+"="+strconv.Itoa(e.Ret))
					default:
						ours = append(ours, kernelCall{e.Syscall, e.FD, e.Ret})
						fds[e.FD] = true
					}
				}
				all, _ := straceLog(t, p.log)
				var theirs []kernelCall
				for _, c := range all {
					if fds[c.fd] {
						theirs = append(theirs, c)
					}
				}
				if testing.Verbose() {
					t.Logf("%s: compared %v, waits %v, epoll_ctl %v", p.peer, ours, ourWaits, ourCtls)
				}
				if len(ours) == 0 {
					t.Errorf("%s: nothing to compare:\n%s", p.peer, r.text)
				}
				if !slices.Equal(ours, theirs) {
					t.Errorf("%s: socklab traced\n\t%v\nstrace saw\n\t%v", p.peer, ours, theirs)
				}
				theirWaits, theirCtls := straceWaits(t, p.log, fds)
				if !slices.Equal(ourWaits, theirWaits) {
					t.Errorf("%s's waits: socklab traced\n\t%v\nstrace saw\n\t%v", p.peer, ourWaits, theirWaits)
				}
				if !slices.Equal(ourCtls, theirCtls) {
					t.Errorf("%s's epoll_ctl: socklab traced\n\t%v\nstrace saw\n\t%v", p.peer, ourCtls, theirCtls)
				}
			}
		})
	}
}

// A program that sets up an io_uring is noticed (Exit.IOUring): the calls
// it makes through the ring are no system calls, and not traced.
func TestIOUringNoticed(t *testing.T) {
	cc := needCC(t)
	bin := filepath.Join(t.TempDir(), "uring")
	if out, err := exec.Command(cc, "-o", bin, "testdata/uring.c").CombinedOutput(); err != nil {
		t.Fatalf("cc: %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	works := !strings.Contains(string(out), "= -")
	_, exits, _ := traced(t, Options{}, Program{Argv: []string{bin}, Stdout: nullOutput(t)})
	if len(exits) != 1 || exits[0].IOUring != works {
		t.Errorf("exits %+v; io_uring works here: %v", exits, works)
	}
}
