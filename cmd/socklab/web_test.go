package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestWebRefuses(t *testing.T) {
	dir := t.TempDir()
	notTrace := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notTrace, []byte(`{"v":2,"seq":1,"op":"create"}`+"\nhello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown lesson", []string{"web", "nosuch"}, exitUsage, `socklab: unknown lesson "nosuch"; see 'socklab list'`},
		{"a lesson and a replay", []string{"web", "basic", "--replay", notTrace}, exitUsage, "--replay plays a saved trace: it takes no lesson (basic)"},
		{"no such file", []string{"web", "--replay", filepath.Join(dir, "missing.jsonl")}, exitFailure, "no such file or directory (ENOENT)"},
		{"not a trace", []string{"web", "--replay", notTrace}, exitFailure, "line 2: not a line of socklab's --format=json trace"},
		{"a bad address", []string{"web", "--addr", "127.0.0.1:99999"}, exitUsage, "99999"},
		{"web with step", []string{"run", "basic", "--web", "--step"}, exitUsage, "--web shows the run in the page"},
		{"two lessons", []string{"web", "basic", "echo"}, exitUsage, "echo"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tc.args, env{stdout: &stdout, stderr: &stderr})
			if code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if lines := strings.Count(stderr.String(), "\n"); lines != 1 || !strings.Contains(stderr.String(), tc.want) {
				t.Errorf("stderr: got %q, want one line with %q", stderr.String(), tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout: got %q, want nothing", stdout.String())
			}
		})
	}
}

// lockedBuffer is a buffer a command writes while a test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var webURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/\?token=[0-9a-f]+`)

// TestWebServesTheLesson runs socklab web as a user would: it prints the
// page's address; a page plays the basic lesson at a speed (no Next
// needed); Ctrl-C ends the server with the line of an interrupted run.
func TestWebServesTheLesson(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var stdout, stderr lockedBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"web", "basic"}, env{stdout: &stdout, stderr: &stderr}) }()
	var url string
	for deadline := time.Now().Add(5 * time.Second); url == ""; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("socklab web printed no address in 5s: stdout %q, stderr %q", stdout.String(), stderr.String())
		}
		url = webURL.FindString(stdout.String())
	}
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET the page: %d", resp.StatusCode)
	}

	dialCtx, stopDial := context.WithTimeout(ctx, 10*time.Second)
	defer stopDial()
	socket := strings.Replace(strings.Replace(url, "http://", "ws://", 1), "/?", "/ws?", 1)
	conn, _, err := websocket.Dial(dialCtx, socket, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 24)
	if err := conn.Write(dialCtx, websocket.MessageText, []byte(`{"cmd":"run","lesson":"basic","delay_ms":1}`)); err != nil {
		t.Fatal(err)
	}
	steps := map[int]bool{}
	for done := false; !done; {
		_, b, err := conn.Read(dialCtx)
		if err != nil {
			t.Fatalf("waiting for the run's end: %v", err)
		}
		var m struct {
			Type  string
			Event struct{ Step int }
			Error map[string]string
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case "event":
			steps[m.Event.Step] = true
		case "done":
			if m.Error != nil {
				t.Errorf("the run failed: %v", m.Error)
			}
			done = true
		}
	}
	for step := 1; step <= 11; step++ {
		if !steps[step] {
			t.Errorf("step %d never happened", step)
		}
	}
	conn.Close(websocket.StatusNormalClosure, "")

	cancel(signalError{os.Interrupt})
	select {
	case code := <-exited:
		if code != 130 {
			t.Errorf("exit code %d, want 130", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("socklab web did not stop on Ctrl-C")
	}
	if want := "socklab: interrupted by Ctrl-C (SIGINT); every socket was closed (the trace has their close events)\n"; stderr.String() != want {
		t.Errorf("stderr: got %q, want %q", stderr.String(), want)
	}
}
