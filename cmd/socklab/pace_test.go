package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/socklab/socklab/lessons"
)

// promptedEnter is a person at the keyboard: it answers each step prompt
// written to standard error with Enter, after thinking as long as hold
// says for that prompt.
type promptedEnter struct {
	prompts chan string
	hold    func(prompt string) time.Duration
	stop    <-chan struct{}
}

func (p *promptedEnter) Write(b []byte) (int, error) {
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "▶ next:") {
			p.prompts <- line
		}
	}
	return len(b), nil
}

func (p *promptedEnter) Read(b []byte) (int, error) {
	select {
	case prompt := <-p.prompts:
		select {
		case <-time.After(p.hold(prompt)):
		case <-p.stop:
			return 0, io.EOF
		}
		return copy(b, "\n"), nil
	case <-p.stop:
		return 0, io.EOF
	}
}

// jsonStory is what a --format=json run did, peer by peer: each call's op,
// result, errno and why it was woken; and, after the server's closes, the
// kernel's state of the other end. (What the kernel says right after the
// client's close depends on when the server closes, which a pause moves:
// FIN_WAIT2 until then, TIME_WAIT after.)
func jsonStory(t *testing.T, out string) map[string][]string {
	t.Helper()
	story := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e struct {
			Peer, Op, Phase, Errno, Interrupt, Data string
			PeerState                               string `json:"peer_state"`
			Ret                                     *int
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if e.Phase != "end" {
			continue
		}
		s := e.Op + " " + e.Errno + " " + e.Interrupt
		if e.Op == "read" || e.Op == "write" {
			s += fmt.Sprintf(" %d %q", *e.Ret, e.Data)
		}
		if e.Op == "close" && e.Peer == "server" {
			s += " other end " + e.PeerState
		}
		story[e.Peer] = append(story[e.Peer], s)
	}
	return story
}

// TestLongHoldsChangeNothing is the class at its own pace, for real: a
// teacher holds each step that a bound could cut for longer than that
// bound (the connect's, the server's read, the close-wait), and the story
// is the one an unpaused run tells: the client closes first and ends in
// TIME_WAIT, no shutdown, no error. About 50 s.
func TestLongHoldsChangeNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("holds steps for 50 s; -short skips it")
	}
	t.Parallel()
	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"--format=json"}, env{stdout: &out, stderr: &errs}); code != 0 {
		t.Fatalf("unpaused run: exit %d: %s", code, errs.String())
	}
	want := jsonStory(t, out.String())

	holds := map[string]time.Duration{
		"[5] client connect": lessons.DefaultConnectTimeout + time.Second, // the connect's bound
		"[9] client write":   lessons.DefaultReadTimeout + time.Second,    // the server's read bound
		"[10] client read":   lessons.DefaultCloseWait + time.Second,      // the server's close-wait
		"[11] client close":  lessons.DefaultCloseWait + time.Second,
	}
	stop := make(chan struct{})
	defer close(stop)
	person := &promptedEnter{prompts: make(chan string, 100), stop: stop, hold: func(prompt string) time.Duration {
		for step, d := range holds {
			if strings.Contains(prompt, step) {
				return d
			}
		}
		return 0
	}}
	out.Reset()
	start := time.Now()
	code := run(context.Background(), []string{"--step", "--format=json"}, env{stdin: person, stdout: &out, stderr: person})
	if code != 0 {
		t.Fatalf("stepped run: exit %d", code)
	}
	got := jsonStory(t, out.String())
	for peer := range want {
		if !slices.Equal(got[peer], want[peer]) {
			t.Errorf("%s, held %v in all:\ngot  %q\nwant %q", peer, time.Since(start).Round(time.Second), got[peer], want[peer])
		}
	}
	if !slices.Contains(got["server"], "close   other end TIME_WAIT") {
		t.Errorf("the server's closes: %q, want the client's end in TIME_WAIT", got["server"])
	}
}
