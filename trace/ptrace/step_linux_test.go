package ptrace

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/socklab/socklab/trace"
)

// holdGate holds the first call of op until released, as --step does at
// its prompt.
type holdGate struct {
	op      trace.Op
	reached chan struct{}
	release chan struct{}
	once    sync.Once // Wait is called from every program's admission
}

func (g *holdGate) Wait(e *trace.Event) error {
	if e.Op == g.op {
		g.once.Do(func() {
			close(g.reached)
			<-g.release
		})
	}
	return nil
}

// acceptQueue returns the accept queue of the socket listening on port,
// from the kernel's table: for a LISTEN socket, rx_queue counts the
// connections whose handshake is done and that wait for accept.
func acceptQueue(t *testing.T, port int) (int, bool) {
	t.Helper()
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		t.Skip("no /proc/net/tcp")
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || fields[3] != "0A" { // 0A: LISTEN
			continue
		}
		_, p, _ := strings.Cut(fields[1], ":")
		if n, _ := strconv.ParseUint(p, 16, 16); int(n) != port {
			continue
		}
		_, rx, _ := strings.Cut(fields[4], ":")
		q, _ := strconv.ParseUint(rx, 16, 32)
		return int(q), true
	}
	return 0, false
}

// A real Python server held before accept, as --step holds it: the kernel
// meanwhile has it listening, and the client's handshake done and queued;
// the client's connect has returned, before accept has even begun.
func TestStepHoldsARealServerBeforeAccept(t *testing.T) {
	python := needPython(t)
	port := freePort(t)
	gate := &holdGate{op: trace.OpAccept, reached: make(chan struct{}), release: make(chan struct{})}
	rec := &trace.Recorder{}
	tr := trace.New(rec).SetGate(gate)
	listening := make(chan struct{}, 1)
	s, err := Start(tr, Options{Stepped: true, KernelState: true, Listening: func(int) { listening <- struct{}{} }})
	if err != nil {
		t.Fatal(err)
	}
	stdin, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	go func() { w.Write([]byte("ok\n")); w.Close() }() // the server's reply, at its input()
	if _, err := s.Launch(Program{Argv: []string{python, "testdata/server.py", port}, Role: trace.Server, Stdin: stdin}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		s.Kill()
		<-s.Done()
	}()
	wait := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatalf("waited 10 s for %s", what)
		}
	}
	wait("the server's listen", listening)
	wait("the server to reach accept", gate.reached)
	if _, err := s.Launch(Program{Argv: []string{python, "testdata/client.py", port}, Role: trace.Client}); err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		q, found := acceptQueue(t, n)
		if !found {
			t.Fatal("while held before accept, nothing listens on the port")
		}
		if q == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the client's connection never reached the accept queue (rx_queue %d)", q)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Held still: the server has not accepted, and the client's connect
	// returns. The queue says the kernel finished the handshake; the
	// connect's exit is recorded when the tracer has handled its stop,
	// a moment later (under CI's load, after the check once): wait for
	// it, bounded, the server still held.
	var events []trace.Event
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		events = rec.Events()
		if _, ok := trace.Find(events, trace.EndOf("client", trace.OpConnect)); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the client's connect did not return in 10 s while the server was held before accept")
		}
	}
	if _, ok := trace.Find(events, trace.BeginOf("server", trace.OpAccept)); ok {
		t.Fatal("accept began while the server was held before it")
	}
	close(gate.release)
	wait("the programs to end", s.Done())
	events = rec.Events()
	if err := trace.CheckOrder(events, trace.Rule{Before: trace.EndOf("client", trace.OpConnect), After: trace.BeginOf("server", trace.OpAccept)}); err != nil {
		t.Error(err)
	}
	for _, x := range s.Wait() {
		if x.Code != 0 {
			t.Errorf("%v exited %d", x.Argv, x.Code)
		}
	}
}
