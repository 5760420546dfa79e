package ptrace

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
)

// A forking server: the parent's close drops its copy of the connection
// (not step 11: the child still holds it); the child, server-2, serves
// and closes the last descriptor (step 11).
func TestProgramForkingServer(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	events, exits, _ := traced(t, Options{},
		Program{Argv: []string{python, "testdata/forking_server.py", port}, Role: trace.Server},
		Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client})
	for _, x := range exits {
		if x.Code != 0 {
			t.Fatalf("%v exited %d\n%s", x.Argv, x.Code, dump(events))
		}
	}
	var parentClose, childClose *trace.Event
	for i := range events {
		e := &events[i]
		if e.Op != trace.OpClose || e.Phase != trace.End || e.Remote == "" {
			continue
		}
		switch e.Peer {
		case "server":
			parentClose = e
		case "server-2":
			childClose = e
		}
	}
	switch {
	case parentClose == nil || childClose == nil:
		t.Fatalf("want the connection closed by the parent and by the child (server-2):\n%s", dump(events))
	case parentClose.Copies != 1 || parentClose.Step != 0:
		t.Errorf("the parent's close: copies %d, step %d; want 1 copy left and no step", parentClose.Copies, parentClose.Step)
	case childClose.Copies != 0 || childClose.Step != 11:
		t.Errorf("the child's close: copies %d, step %d; want the last, step 11", childClose.Copies, childClose.Step)
	}
	if _, ok := trace.Find(events, trace.EndOf("server-2", trace.OpRead)); !ok {
		t.Errorf("the child's reads are not traced:\n%s", dump(events))
	}
}

// Python's http.server and a urllib client: a library's calls, traced as
// the tutorial's are. The server serves for ever; the test stops it once
// the client is done.
func TestProgramHTTPServer(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	rec := &trace.Recorder{}
	listening := make(chan struct{}, 1)
	s, err := Start(trace.New(rec), Options{KernelState: true, Listening: func(int) {
		select {
		case listening <- struct{}{}:
		default:
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	quiet, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer quiet.Close()
	if _, err := s.Launch(Program{Argv: []string{python, "-m", "http.server", "--bind", "127.0.0.1", port}, Role: trace.Server, Dir: t.TempDir(), Stdout: quiet, Stderr: quiet}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-listening:
	case <-time.After(10 * time.Second):
		s.Kill()
		t.Fatal("http.server did not listen within 10 s")
	}
	client, err := s.Launch(Program{Argv: []string{python, "-c", "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:" + port + "/').read()"}, Role: trace.Client})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !s.Ended(client) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	s.Kill()
	<-s.Done()
	events := rec.Events()
	steps := map[string][]int{}
	for _, e := range events {
		if e.Step > 0 && !slices.Contains(steps[e.Peer], e.Step) {
			steps[e.Peer] = append(steps[e.Peer], e.Step)
		}
	}
	for peer, want := range map[string][]int{"server": {1, 2, 3, 6, 8, 10, 9, 11}, "client": {4, 5, 7, 9, 10, 11}} {
		got := slices.Clone(steps[peer])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s's steps: %v, want each of %v\n%s", peer, steps[peer], want, dump(events))
		}
	}
	// The request crossed: the server read what the client wrote.
	var sent, got string
	for _, e := range events {
		if e.Phase == trace.End && e.Op == trace.OpWrite && e.Peer == "client" {
			sent += string(e.Data)
		}
		if e.Phase == trace.End && e.Op == trace.OpRead && e.Peer == "server" {
			got += string(e.Data)
		}
	}
	if !strings.HasPrefix(sent, "GET / HTTP/1.1") || !strings.Contains(got, sent) {
		t.Errorf("client wrote %q, server read %q", sent, got)
	}
}

// socklab holds no descriptor of a traced program after its calls: its
// duplicates (pidfd_getfd) are closed at once, or the program's close
// would not send its FIN. After a whole session, socklab has no socket
// and no pidfd more than before.
func TestProgramLeavesNoDescriptors(t *testing.T) {
	python := needPython(t)
	before := openSockets(t)
	port := freePort(t)
	_, exits, _ := traced(t, Options{},
		Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: replyFile(t, "ok\n")},
		Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client})
	for _, x := range exits {
		if x.Code != 0 {
			t.Fatalf("%v exited %d", x.Argv, x.Code)
		}
	}
	if after := openSockets(t); after > before {
		t.Errorf("socklab holds %d sockets and pidfds, %d before the trace", after, before)
	}
}

// openSockets counts this process's socket and pidfd descriptors.
func openSockets(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ent := range entries {
		link, err := os.Readlink("/proc/self/fd/" + ent.Name())
		if err == nil && (strings.HasPrefix(link, "socket:") || strings.Contains(link, "pidfd")) {
			n++
		}
	}
	return n
}
