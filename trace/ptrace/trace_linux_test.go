package ptrace

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/socklab/socklab/internal/kernelview"
	"github.com/socklab/socklab/trace"
)

func TestMain(m *testing.M) {
	RunTraceeIfAsked()
	goleak.VerifyTestMain(m)
}

// needPython skips where python3 is missing; CI has it.
func needPython(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("python3")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is missing in CI")
		}
		t.Skip("needs python3")
	}
	return path
}

// freePort returns a port nothing listens on now.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// traced runs the programs, the first as the server and the rest as its
// clients once it listens, and returns the events.
func traced(t *testing.T, opts Options, server Program, clients ...Program) ([]trace.Event, []Exit, *Session) {
	t.Helper()
	rec := &trace.Recorder{DataLimit: -1}
	tr := trace.New(rec)
	listening := make(chan int, 1)
	opts.Listening = func(pid int) {
		select {
		case listening <- pid:
		default:
		}
	}
	opts.KernelState = true
	s, err := Start(tr, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Launch(server); err != nil {
		t.Fatal(err)
	}
	if len(clients) > 0 {
		select {
		case <-listening:
		case <-time.After(10 * time.Second):
			s.Kill()
			t.Fatal("the server did not listen within 10 s")
		}
		for _, c := range clients {
			if _, err := s.Launch(c); err != nil {
				t.Fatal(err)
			}
		}
	}
	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		s.Kill()
		<-s.Done()
		t.Fatalf("the programs did not end within 20 s; events so far:\n%s", dump(rec.Events()))
	}
	return rec.Events(), s.Wait(), s
}

func dump(events []trace.Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(strconv.Itoa(int(e.Seq)) + " " + e.Peer + " [" + strconv.Itoa(e.Step) + "] " + string(e.Op) + " " + string(e.Phase) + " " + e.Syscall + "(" + strconv.Itoa(e.FD) + ") = " + strconv.Itoa(e.Ret) + " " + e.Errno + " " + e.Local + " " + e.Remote + " " + e.Kernel.State + " " + strconv.Quote(string(e.Data)) + "\n")
	}
	return b.String()
}

func TestTracePythonPair(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	reply, err := os.CreateTemp(t.TempDir(), "reply")
	if err != nil {
		t.Fatal(err)
	}
	reply.WriteString("got it\n")
	reply.Seek(0, 0)
	defer reply.Close()
	events, exits, _ := traced(t, Options{},
		Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: reply},
		Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client})
	t.Logf("\n%s", dump(events))
	for _, x := range exits {
		if x.Code != 0 {
			t.Errorf("%v exited %d", x.Argv, x.Code)
		}
	}
}

// callsOf is what the tests compare between two runs: each peer's calls,
// with their steps and results, without times and ports.
func callsOf(events []trace.Event) map[string][]string {
	calls := map[string][]string{}
	for _, e := range events {
		calls[e.Peer] = append(calls[e.Peer], fmt.Sprintf("[%d] %s %s fd=%d ret=%d %s %q", e.Step, e.Syscall, e.Phase, e.FD, e.Ret, e.Errno, e.Data))
	}
	return calls
}

// The filter only decides which calls stop the program: traced with it and
// without it (every call stopping, as strace does by default), a program
// shows the same calls.
func TestFilterOnAndOffSeeTheSameCalls(t *testing.T) {
	python := needPython(t)
	run := func(noFilter bool) map[string][]string {
		port := freePort(t)
		reply := replyFile(t, "got it\n")
		events, exits, _ := traced(t, Options{NoFilter: noFilter},
			Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: reply},
			Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client})
		for _, x := range exits {
			if x.Code != 0 {
				t.Fatalf("%v exited %d", x.Argv, x.Code)
			}
		}
		return callsOf(events)
	}
	with, without := run(false), run(true)
	for peer, calls := range with {
		if !slices.Equal(calls, without[peer]) {
			t.Errorf("%s:\nwith the filter    %q\nwithout the filter %q", peer, calls, without[peer])
		}
	}
	if len(with) != len(without) || len(with["server"]) == 0 {
		t.Errorf("peers with the filter %d, without %d", len(with), len(without))
	}
}

// replyFile is a file holding text, open for reading: a server's stdin.
func replyFile(t *testing.T, text string) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "reply")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		t.Fatal(err)
	}
	return f
}

// The kernel's view of another program's sockets comes from sock_diag
// after close, or from the table where sock_diag is refused (forced here
// with kernelview.Env), and says which; an open socket's from the
// duplicate descriptor (TCP_INFO).
func TestKernelViewOfAProgramBothWays(t *testing.T) {
	python := needPython(t)
	for _, tt := range []struct{ name, env, from string }{{"sock_diag", "", kernelview.FromSockDiag}, {"table", "table", kernelview.FromTable}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(kernelview.Env, tt.env)
			port := freePort(t)
			events, exits, _ := traced(t, Options{},
				Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: replyFile(t, "got it\n")},
				Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client, Stdin: nullStdin(t)})
			wantExits(t, exits, 0)
			client, ok := trace.Find(events, trace.EndOf("client", trace.OpClose))
			if !ok {
				t.Fatalf("no client close:\n%s", dump(events))
			}
			if client.Kernel.From != tt.from || !slices.Contains([]string{"FIN_WAIT1", "FIN_WAIT2", "CLOSING", "TIME_WAIT"}, client.Kernel.State) {
				t.Errorf("the client's close: %q from %q, want a closing state from %q", client.Kernel.State, client.Kernel.From, tt.from)
			}
			connect, _ := trace.Find(events, trace.EndOf("client", trace.OpConnect))
			if connect.Kernel.State != "ESTABLISHED" || connect.Kernel.From != kernelview.FromTCPInfo {
				t.Errorf("the client's connect: %q from %q, want ESTABLISHED from TCP_INFO", connect.Kernel.State, connect.Kernel.From)
			}
		})
	}
}
