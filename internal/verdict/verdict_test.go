package verdict

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
)

func end(peer string, op trace.Op, f func(*trace.Event)) trace.Event {
	e := trace.Event{Peer: peer, Role: trace.Role(peer), Op: op, Phase: trace.End, Kind: "tcp"}
	f(&e)
	return e
}

func failed(errno string) func(*trace.Event) {
	return func(e *trace.Event) { e.Ret, e.Errno, e.Err = -1, errno, errors.New(errno) }
}

// The first cause comes first, in one sentence, with its code.
func TestFirstCause(t *testing.T) {
	basic, _ := lessons.Lookup("basic")
	listen := end("server", trace.OpListen, func(e *trace.Event) { e.Local = "127.0.0.1:1234" })
	tests := []struct {
		name, code, sentence string
		run                  Run
		status               int
	}{
		{"refused", "connect_refused", "connect refused: nothing listens on 127.0.0.1:1235 (the server listens on 127.0.0.1:1234)",
			Run{Events: []trace.Event{listen, end("client", trace.OpConnect, func(e *trace.Event) { failed("ECONNREFUSED")(e); e.Remote = "127.0.0.1:1235" })}}, Missed},
		{"timewait", "bind_timewait", "TIME_WAIT from an earlier run (53 s left)",
			Run{Events: []trace.Event{end("server", trace.OpBind, func(e *trace.Event) { failed("EADDRINUSE")(e); e.Local = "127.0.0.1:1234" })},
				TimeWait: func(port uint16) (time.Duration, bool) { return 53 * time.Second, port == 1234 }}, Missed},
		{"crash", "crashed", "the server crashed (exit 1) after recvfrom: its last lines were: Traceback / ValueError: boom",
			Run{Events: []trace.Event{listen, end("server", trace.OpRead, func(e *trace.Event) { e.Syscall = "recvfrom" })},
				Exits: []ptrace.Exit{{Code: 1}, {}}, Tails: [][]string{{"Traceback", "ValueError: boom"}}}, Missed},
		{"not started", "not_started", "a program could not start", Run{LaunchErr: errors.New("python9: command not found")}, Unjudged},
		{"timeout", "timeout", "did not finish in 20s: the programs were still waiting (server: recvfrom)",
			Run{TimedOut: true, Limit: 20 * time.Second, Events: []trace.Event{listen, end("server", trace.OpRead, func(e *trace.Event) { failed("EINTR")(e); e.Syscall = "recvfrom" })}}, Missed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := Judge(basic.Expect, tt.run)
			if v.Cause.Code != tt.code {
				t.Errorf("code %q, want %q", v.Cause.Code, tt.code)
			}
			if got := v.Cause.Say(i18n.EN); !strings.Contains(got, tt.sentence) {
				t.Errorf("got %q, want %q in it", got, tt.sentence)
			}
			if zh := v.Cause.Say(i18n.ZH); zh == "" || strings.Contains(zh, "%!") {
				t.Errorf("zh: %q", zh)
			}
			if v.Status != tt.status {
				t.Errorf("status %d, want %d", v.Status, tt.status)
			}
		})
	}
}
