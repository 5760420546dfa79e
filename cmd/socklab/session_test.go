package main

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/sock"
)

// failingWriter is standard output closed under the trace.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, syscall.EPIPE }

// TestSessionClosesOnce: Close ends the session's resources once, and says
// the same thing when called again; done adds the trace's error to a run
// that had none.
func TestSessionClosesOnce(t *testing.T) {
	for _, tt := range []struct {
		name    string
		wantErr bool
	}{
		{"written", false},
		{"standard output closed", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			e := &env{stdout: &stdout, stderr: &stderr, lang: i18n.EN}
			if tt.wantErr {
				e.stdout = failingWriter{}
			}
			c := newCommand(e, "run", "")
			c.traceFlags()
			if _, err := c.parse([]string{"--format=json"}, 0); err != nil {
				t.Fatal(err)
			}
			s, err := c.openSession()
			if err != nil {
				t.Fatal(err)
			}
			tr := s.start(nil, false)
			p := tr.Peer("server", trace.Server)
			ev := &trace.Event{Op: trace.OpCreate, Syscall: "socket", FD: -1}
			p.End(ev, p.Begin(ev))
			p.Done()
			first, second := s.Close(), s.Close()
			if (first != nil) != tt.wantErr || second != first {
				t.Errorf("Close, Close = %v, %v; want the same error twice, an error: %v", first, second, tt.wantErr)
			}
			err = s.done(nil)
			if (err != nil) != tt.wantErr {
				t.Errorf("done(nil) = %v, want an error: %v", err, tt.wantErr)
			}
			if tt.wantErr && !strings.Contains(say(i18n.EN, err), "EPIPE") && !strings.Contains(say(i18n.EN, err), "broken pipe") {
				t.Errorf("done(nil) says %q, want the write's error", say(i18n.EN, err))
			}
			if run := errors.New("the run's own"); s.done(run) != run {
				t.Errorf("done(err) does not return the run's own error first")
			}
		})
	}
}

// TestErrorsSayThemselves: an error is said in its own words wherever it
// is in the chain; a call interrupted by a cause says the cause; errors
// that came together are each said.
func TestErrorsSayThemselves(t *testing.T) {
	stall := &trace.StallError{Peers: []trace.StalledPeer{{Peer: "server", Op: trace.OpRead}, {Peer: "client", Op: trace.OpRead}}}
	refused := &sock.CallError{Call: "connect", Arg: "127.0.0.1:1", Err: syscall.ECONNREFUSED}
	for _, tt := range []struct {
		name string
		err  error
		want string
	}{
		{"a call interrupted by a stall", &sock.CallError{Call: "read", Err: fmt.Errorf("interrupted: %w", stall)}, stall.Say(i18n.EN)},
		{"a call interrupted by the lesson's bound", &sock.CallError{Call: "read", Err: fmt.Errorf("interrupted: %w", lessons.ErrLessonTooLong)}, say(i18n.EN, lessons.ErrLessonTooLong)},
		{"a wrapped sentinel", fmt.Errorf("%w (EADDRINUSE)", lessons.ErrNoTimeWait), i18n.EN.T("line.hint", i18n.EN.T("err.no_time_wait"), i18n.EN.T("hint.no_time_wait"))},
		{"two peers' errors", errors.Join(refused, lessons.ErrClosedWithoutReply), refused.Say(i18n.EN) + i18n.EN.T("line.join") + lessons.ErrClosedWithoutReply.(i18n.Sayer).Say(i18n.EN)},
		{"a plain error", errors.New("plain"), "plain"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := say(i18n.EN, tt.err); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// TestSayersKeysExist checks, as TestCatalogueKeysExist does for the
// command and the tracer, the keys of the sentences that moved beside
// their error types.
func TestSayersKeysExist(t *testing.T) {
	for _, dir := range []string{"../../lessons", "../../trace/sock", "../../trace/web", "../../internal/addrspec", "../../internal/shellwords", "../../trace/ptrace"} {
		for s, pos := range sourceStrings(t, dir) {
			if !keyLiteral.MatchString(s) || strings.HasSuffix(s, ".") {
				continue
			}
			if !i18n.EN.Has(s) {
				t.Errorf("%v: key %q is not in the catalogue", pos, s)
			}
		}
	}
}
