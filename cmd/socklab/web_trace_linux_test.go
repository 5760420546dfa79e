package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestTraceWeb plays the tutorial's Python pair from the page of socklab
// trace --web: the page can run them, and only them; each peer's steps
// are the ones socklab trace prints.
func TestTraceWeb(t *testing.T) {
	needPython3(t)
	port := unusedPort(t)
	cmd := exec.Command(socklabBinary(t), "trace", "--web",
		"--server", "python3 "+filepath.Join(tutorial, "server.py")+" "+port,
		"--client", "python3 "+filepath.Join(tutorial, "client.py")+" "+port)
	cmd.Stdin = strings.NewReader("got it\n")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("socklab trace --web did not stop on SIGINT")
		}
	}()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no address in 10s: stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		url = webURL.FindString(stdout.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(strings.Replace(url, "http://", "ws://", 1), "/?", "/ws?", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 24)
	send := func(cmd string) {
		if err := conn.Write(ctx, websocket.MessageText, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"cmd":"run","lesson":"python3 /bin/sh"}`) // not the page's one command
	send(`{"cmd":"run","lesson":"trace","delay_ms":1}`)
	got := map[string][]int{}
	refused := false
	for done := false; !done; {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for the run's end: %v (stderr %q)", err, stderr.String())
		}
		var m struct {
			Type  string
			Event struct {
				Peer string
				Step int
			}
			Error map[string]string
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case "error":
			refused = true
		case "event":
			if e := m.Event; e.Step > 0 && !slices.Contains(got[e.Peer], e.Step) {
				got[e.Peer] = append(got[e.Peer], e.Step)
			}
		case "done":
			if m.Error != nil {
				t.Errorf("the run failed: %v", m.Error)
			}
			done = true
		}
	}
	if !refused {
		t.Error("the page ran something other than the command given to socklab")
	}
	want := map[string][]int{"server": {1, 2, 3, 6, 8, 10, 9, 11}, "client": {4, 5, 7, 9, 10, 11}}
	for peer, w := range want {
		if !slices.Equal(got[peer], w) {
			t.Errorf("%s's steps: got %v, want %v", peer, got[peer], w)
		}
	}
}

// TestTraceWebStopSaysHowTheProgramsEnded: Stop on the page of socklab
// trace --web ends a server that would listen for a minute; the page is
// told how it ended, and its listening socket's end is drawn (its close
// call) or said (the kernel closed it).
func TestTraceWebStopSaysHowTheProgramsEnded(t *testing.T) {
	needPython3(t)
	// SIGINT as a terminal's program has it: a test started in the
	// background inherits it ignored, and Stop's SIGINT would not end it.
	// A file, not python3 -c '…': a command with quotes runs under sh -c,
	// and Stop's SIGINT reaches the shell, which waits for its child.
	script := filepath.Join(t.TempDir(), "server.py")
	if err := os.WriteFile(script, []byte("import signal, socket, time\nsignal.signal(signal.SIGINT, signal.default_int_handler)\ns = socket.socket()\ns.bind(('127.0.0.1', 0))\ns.listen()\ntime.sleep(60)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	server := "python3 " + script
	cmd := exec.Command(socklabBinary(t), "trace", "--web", "--server", server)
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			t.Error("socklab trace --web did not stop on SIGINT")
		}
	}()
	var url string
	for deadline := time.Now().Add(10 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no address in 10s: stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		url = webURL.FindString(stdout.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, strings.Replace(strings.Replace(url, "http://", "ws://", 1), "/?", "/ws?", 1), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 24)
	send := func(cmd string) {
		if err := conn.Write(ctx, websocket.MessageText, []byte(cmd)); err != nil {
			t.Fatal(err)
		}
	}
	send(`{"cmd":"run","lesson":"trace","delay_ms":1}`)
	var ends []string
	listenFD, closed, kernelClosed, stopped := -1, false, false, false
	for done := false; !done; {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("waiting for the run's end: %v (stderr %q)", err, stderr.String())
		}
		var m struct {
			Type  string
			Event struct {
				Op, Phase string
				FD        *int
			}
			Key     string
			Args    []any
			Stopped bool
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case "event":
			e := m.Event
			if e.Op == "listen" && e.Phase == "end" && e.FD != nil {
				listenFD = *e.FD
				send(`{"cmd":"stop"}`)
			}
			if e.Op == "close" && e.FD != nil && *e.FD == listenFD {
				closed = true
			}
		case "notice":
			switch m.Key {
			case "web.notice.exited", "web.notice.signaled", "web.notice.killed":
				ends = append(ends, fmt.Sprint(m.Key, m.Args))
			case "web.notice.kernel_closed":
				kernelClosed = len(m.Args) == 2 && fmt.Sprint(m.Args[1]) == fmt.Sprint(listenFD)
			}
		case "done":
			stopped = m.Stopped
			done = true
		}
	}
	if listenFD < 0 {
		t.Fatal("the server's listen never came")
	}
	if !stopped {
		t.Error("the run's end does not say it was stopped")
	}
	if len(ends) != 1 || !strings.Contains(ends[0], "python3") {
		t.Errorf("the page was told %q of how the programs ended, want one line naming python3", ends)
	}
	if !closed && !kernelClosed {
		t.Errorf("the listening socket's end (fd %d) is neither drawn (a close) nor said (the kernel closed it)", listenFD)
	}
	t.Logf("ended: %v; close drawn %v, kernel's close said %v", ends, closed, kernelClosed)
}
