package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// terminal is one screen that standard output and standard error both
// write to, as they do on a terminal. Writes to standard output take a
// while (a slow terminal), so that a trace line still queued when
// something is written to standard error would come after it: the order
// on the screen is what the tests check.
type terminal struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (t *terminal) write(p []byte, slow bool) (int, error) {
	if slow {
		time.Sleep(200 * time.Microsecond)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.Write(p)
}

func (t *terminal) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.buf.String()
}

type terminalOut struct{ t *terminal }

func (o terminalOut) Write(p []byte) (int, error) { return o.t.write(p, true) }

type terminalErr struct{ t *terminal }

func (o terminalErr) Write(p []byte) (int, error) { return o.t.write(p, false) }

// steppedOnTerminal runs the basic lesson with --step, Enter at every
// prompt, on a slow terminal that both standard streams write to, and
// returns the screen.
func steppedOnTerminal(t *testing.T) *terminal {
	t.Helper()
	var term terminal
	code := run(context.Background(), []string{"--step", "--format=json"}, env{
		stdin: strings.NewReader(strings.Repeat("\n", 20)), stdout: terminalOut{&term}, stderr: terminalErr{&term},
	})
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, term.String())
	}
	return &term
}

// In step mode, each prompt comes after every line its peer's earlier
// calls printed: the prompt asks about the next call, so the screen must
// already show what came before.
func TestStepPromptsFollowTheirLines(t *testing.T) {
	term := steppedOnTerminal(t)
	type line struct {
		prompt bool
		peer   string
		phase  string
		seq    float64
	}
	var lines []line
	for _, text := range strings.Split(term.String(), "\n") {
		if i := strings.Index(text, "▶ next: ["); i >= 0 {
			// "▶ next: [2] server bind() …": the peer is the word after the step.
			_, rest, _ := strings.Cut(text[i:], "] ")
			peer, _, _ := strings.Cut(rest, " ")
			lines = append(lines, line{prompt: true, peer: peer})
			// The Enter that answered the prompt ends the line, and the
			// next trace line may follow on the same one.
			text = text[i:]
			if j := strings.Index(text, "{"); j >= 0 {
				text = text[j:]
			} else {
				continue
			}
		}
		if !strings.HasPrefix(text, "{") {
			continue
		}
		var e struct {
			Seq   float64 `json:"seq"`
			Peer  string  `json:"peer"`
			Phase string  `json:"phase"`
		}
		if err := json.Unmarshal([]byte(text), &e); err != nil {
			t.Fatalf("%v in %q", err, text)
		}
		lines = append(lines, line{peer: e.Peer, phase: e.Phase, seq: e.Seq})
	}
	prompts := 0
	for i, l := range lines {
		if !l.prompt {
			continue
		}
		prompts++
		// The call the prompt is about: its peer's next Begin.
		var next float64
		for _, m := range lines[i+1:] {
			if !m.prompt && m.peer == l.peer && m.phase == "begin" {
				next = m.seq
				break
			}
		}
		if next == 0 {
			t.Fatalf("prompt %d (%s) is followed by no Begin of its peer", prompts, l.peer)
		}
		for _, m := range lines[i+1:] {
			if !m.prompt && m.peer == l.peer && m.seq < next {
				t.Errorf("prompt %d (%s, before event %v) is printed before its peer's earlier event %v", prompts, l.peer, next, m.seq)
			}
		}
	}
	if prompts < 10 {
		t.Errorf("got %d prompts, want the lesson's steps", prompts)
	}
}

// The line that says why a run stopped comes after every trace line.
func TestErrorLineComesLast(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	var term terminal
	// A server waits in accept until Ctrl-C; then its socket is shut
	// down and closed, and those lines come out of a slow stdout.
	go func() {
		for !strings.Contains(term.String(), `"op":"accept","phase":"begin"`) {
			time.Sleep(time.Millisecond)
		}
		cancel(signalError{os.Interrupt})
	}()
	code := run(ctx, []string{"server", "--addr=127.0.0.1:0", "--reply=hi", "--format=json"}, env{stdout: terminalOut{&term}, stderr: terminalErr{&term}})
	if code != 130 {
		t.Fatalf("exit %d, want 130:\n%s", code, term.String())
	}
	out := strings.TrimSuffix(term.String(), "\n")
	last := out[strings.LastIndex(out, "\n")+1:]
	if !strings.HasPrefix(last, "socklab: interrupted") {
		t.Errorf("the last line is %q, want the interrupt's:\n%s", last, out)
	}
	if !strings.Contains(out, `"op":"close","phase":"end"`) {
		t.Errorf("no close:\n%s", out)
	}
}

// failingStdout is a standard output that was closed.
type failingStdout struct{}

var errStdoutClosed = errors.New("write /dev/stdout: broken pipe")

func (failingStdout) Write([]byte) (int, error) { return 0, errStdoutClosed }

// A trace that cannot be written is a failure, said once the run is over.
func TestTraceWriteFails(t *testing.T) {
	for _, args := range [][]string{{"run", "basic"}, {"run", "basic", "--format=json"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(context.Background(), args, env{stdout: failingStdout{}, stderr: &stderr})
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			if want := "socklab: writing the trace: " + errStdoutClosed.Error() + "\n"; stderr.String() != want {
				t.Errorf("stderr:\ngot  %q\nwant %q", stderr.String(), want)
			}
		})
	}
}
