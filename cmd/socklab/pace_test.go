//go:build linux || darwin

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
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
// kernel's state of the other end, as far as it is certain. (What the
// kernel says right after the client's close depends on when the server
// closes, which a pause moves: FIN_WAIT2 until then, TIME_WAIT after.)
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
			// Which of these a moment shows depends on when the client's
			// kernel took the server's FIN (a delayed ACK); each says the
			// client closed first.
			switch e.PeerState {
			case "FIN_WAIT1", "FIN_WAIT2", "CLOSING", "TIME_WAIT":
				s += " other end closed first"
			default:
				s += " other end " + e.PeerState
			}
		}
		story[e.Peer] = append(story[e.Peer], s)
	}
	return story
}

// TestLongHoldsChangeNothing is the class at its own pace, for real: a
// teacher holds each step that a bound could cut for longer than that
// bound (the connect's, the server's read, the close-wait), and the story
// is the one an unpaused run tells: the client closes first (and so is the
// one left in TIME_WAIT), no shutdown, no error. About 50 s.
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
	if !slices.Contains(got["server"], "close   other end closed first") {
		t.Errorf("the server's closes: %q, want the client's end to show it closed first", got["server"])
	}
}

// TestLateReplyIsReported: the teacher types the reply after the client
// has gone; the server says that the reply was not delivered, and exits 1.
func TestLateReplyIsReported(t *testing.T) {
	addr := "127.0.0.1:" + freePort(t)
	typed, typing := io.Pipe()
	server := start(t, typed, "server", "--addr", addr)
	server.waitFor(t, "accept", "begin")
	c := dial(t, addr)
	_, err := c.Write([]byte("hi\n"))
	require.NoError(t, err)
	server.waitFor(t, "read", "end")
	require.NoError(t, c.Close()) // the client gives up while the teacher types
	_, err = typing.Write([]byte("a reply too late\n"))
	require.NoError(t, err)
	typing.Close()
	code, events, stderr := server.wait(t)
	require.Equal(t, 1, code, stderr)
	require.Equal(t, msgReplyUndelivered, stderr)
	checkAllClosed(t, events)
}

// TestPatience: with a person at the terminal, neither server nor client
// puts a time limit on the other side, which may be a person typing, and
// each says so when it starts to wait; --read-timeout still sets one, and
// without a terminal the default applies.
func TestPatience(t *testing.T) {
	tests := []struct {
		name     string
		terminal bool
		args     []string
		want     time.Duration
	}{
		{"a person at the terminal", true, nil, lessons.NoReadTimeout},
		{"a person who set a limit", true, []string{"--read-timeout=5s"}, 5 * time.Second},
		{"no terminal", false, nil, lessons.DefaultReadTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			c := newCommand(&env{stderr: &stderr, stdinTerminal: tt.terminal}, "client", "")
			timeout := lessons.DefaultReadTimeout
			c.durationFlag(&timeout, "read-timeout", "flag.read_timeout")
			if _, err := c.parse(tt.args, 0); err != nil {
				t.Fatal(err)
			}
			got, waiting := c.patience(timeout, "reply")
			if got != tt.want {
				t.Errorf("read timeout %v, want %v", got, tt.want)
			}
			if (waiting != nil) != (tt.want == lessons.NoReadTimeout) {
				t.Fatalf("a notice of the wait: %v, want one only with no time limit", waiting != nil)
			}
			if waiting != nil {
				waiting()()
				if want := "socklab: waiting for the server's reply with no time limit"; !strings.HasPrefix(stderr.String(), want) {
					t.Errorf("notice %q, want it to start %q", stderr.String(), want)
				}
			}
		})
	}
}

// TestClientWaitsForATypedReply: a client at a terminal waits for a
// server that answers only after a while, and says that it waits.
func TestClientWaitsForATypedReply(t *testing.T) {
	addr := foreignServer(t, func(c *net.TCPConn) {
		c.Read(make([]byte, 1024))
		time.Sleep(1500 * time.Millisecond) // a person typing
		c.Write([]byte("ok\n"))
		c.Read(make([]byte, 1024)) // until the client closes
	})
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"client", "--addr", addr, "--format=json"},
		env{stdin: strings.NewReader("hi\n"), stdinTerminal: true, stdout: &stdout, stderr: &stderr})
	require.Equal(t, 0, code, stderr.String())
	require.Contains(t, stderr.String(), "socklab: waiting for the server's reply with no time limit")
}

// stuckTests are the lines of runs whose peers cannot finish.
var stuckTests = []struct {
	name string
	err  error
	want string
}{
	{"both reading", &trace.StallError{Peers: []trace.StalledPeer{{Peer: "server", Op: trace.OpRead}, {Peer: "client", Op: trace.OpRead}}},
		"socklab: both peers are reading: each waits for the other to write; a write is missing, or in the wrong place: one peer must write (or close) what the other reads"},
	{"both writing", &trace.StallError{Peers: []trace.StalledPeer{{Peer: "server", Op: trace.OpWrite}, {Peer: "client", Op: trace.OpWrite}}},
		"socklab: both peers are writing and neither reads: each waits for the other to read; a read is missing: one peer must read what the other writes, or its buffer fills and its write waits"},
	{"accept and a turn", &trace.StallError{Peers: []trace.StalledPeer{{Peer: "server", Op: trace.OpAccept}, {Peer: "client", Op: trace.OpConnect, Turn: true}}},
		"socklab: no peer can go on: the server waits in accept; the client waits for its turn to connect (the script's order); each waits for another: look at the order of the calls you changed"},
	{"a protocol lesson's bound", lessons.ErrLessonTooLong,
		"socklab: the lesson did not finish within 20s; its peers wait for each other, or for something that never comes; see the last calls of the trace"},
	{"divergence", &trace.DivergenceError{Want: trace.BeginOf("client", trace.OpRead), Got: trace.OpClose},
		"socklab: the script expects the client to read; the client called close; the lesson's calls no longer follow its teaching order (Script in its file): change the script to match, or run it without --step and --delay"},
}

func TestStuckRunsSaidInOneLine(t *testing.T) {
	for _, tt := range stuckTests {
		t.Run(tt.name, func(t *testing.T) {
			// Wrapped as a peer's call error, as a run returns it.
			err := fmt.Errorf("read: %w", tt.err)
			if got := i18n.EN.T("line.error", say(i18n.EN, err)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if zh := say(i18n.ZH, err); zh == say(i18n.EN, err) {
				t.Errorf("zh says it in English: %q", zh)
			}
		})
	}
}

// TestStepPromptComesAfterTheStepBefore: before the prompt for step 9,
// the server's accept, which returns on its own once the handshake is
// done (step 8), has printed its line: the class reads 8, then 9.
func TestStepPromptComesAfterTheStepBefore(t *testing.T) {
	screen := steppedOnTerminal(t).String()
	prompt := strings.Index(screen, "▶ next: [9] client")
	accepted := strings.Index(screen, `"op":"accept","phase":"end"`)
	if prompt < 0 || accepted < 0 {
		t.Fatalf("no step 9 prompt or no accept End on the screen:\n%s", screen)
	}
	if accepted > prompt {
		t.Errorf("the accept's End (step 8) is printed after the prompt for step 9:\n%s", screen)
	}
}
