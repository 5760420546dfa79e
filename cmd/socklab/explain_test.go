//go:build linux

package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/socklab/socklab/trace/i18n"
)

// keyLines are, lesson by lesson, the lines that show what the lesson is
// about, and the explanation each must carry under --explain: the first
// line that matches gets the sentence on the line after it. A row with
// when set is checked only in a run whose trace matches when (the kernel
// decides whether two writes come in one read).
var keyLines = []struct {
	lesson, line, key, when string
	after                   string // the line is the first that matches after one that matches this
}{
	{"basic", `connect\(\d+, [^)]*\) = 0`, "explain.connect.end", "", ""},
	{"basic", `accept4\(\d+\) = \d+`, "explain.accept.end", "", ""},
	{"basic", `read\(\d+, "", \d+\) = 0`, "explain.read.eof", "", ""},
	{"echo", `read\(\d+, "", \d+\) = 0`, "explain.read.eof", "", ""},
	{"stream", `read\(\d+, "0123.*= 1024`, "explain.read.partial", "", ""},
	{"stream", `read\(\d+, "pingpong"`, "explain.read.joined", `read\(\d+, "pingpong"`, ""},
	{"stream", `read\(\d+, "你\\xe5"`, "explain.read.split_char", "", ""},
	{"halfclose", `shutdown\(\d+, SHUT_WR\)`, "explain.shutdown", "", ""},
	{"halfclose", `read\(\d+, "", \d+\) = 0`, "explain.read.eof", "", ""},
	// Who waits in TIME_WAIT is who sent FIN first: the client, with
	// shutdown, though it calls close last.
	{"halfclose", `close\(\d+\) = 0  \S+[:：] ?TIME_WAIT`, "explain.close.state.shutdown", `close\(\d+\) = 0  \S+[:：] ?TIME_WAIT`, ""},
	{"halfclose", `close\(\d+\) = 0 .*CLOSED.*TIME_WAIT`, "explain.close.state.other", `close\(\d+\) = 0 .*CLOSED.*TIME_WAIT`, ""},
	{"nonblocking", `accept4\(\d+\) = -1 EAGAIN`, "explain.nonblock.eagain.program", "", ""},
	{"nonblocking", `= -1 EINPROGRESS`, "explain.connect.inprogress", "", ""},
	{"nonblocking", `getsockopt\(\d+, SOL_SOCKET, SO_ERROR, \[0\]\) = 0`, "explain.getsockopt.connected", "", ""},
	{"epoll", `epoll_create1\(EPOLL_CLOEXEC\) = \d+`, "explain.epoll.create", "", ""},
	{"epoll", `epoll_ctl\(\d+, EPOLL_CTL_ADD`, "explain.epoll.ctl", "", ""},
	{"epoll", `epoll_pwait\(\d+, \[[^]]*\], \d+, -1\)  `, "explain.poll.begin", "", ""},
	{"backlog", `connect\(\d+, [^)]*\) = 0`, "explain.connect.end", "", ""},
	{"refused", `= -1 ECONNREFUSED`, "explain.connect.refused", "", ""},
	{"addrinuse", `= -1 EADDRINUSE`, "explain.bind.inuse", "", ""},
	{"addrinuse", `setsockopt\(\d+, SOL_SOCKET, SO_REUSEADDR`, "explain.setsockopt.SO_REUSEADDR", "", ""},
	// The lines the lesson exists for: the port held by TIME_WAIT alone,
	// then taken with SO_REUSEADDR.
	{"addrinuse", `= -1 EADDRINUSE`, "explain.bind.inuse.timewait", "", `close\(\d+\) = 0 .*TIME_WAIT`},
	{"addrinuse", `bind\(\d+, [^)]*\) = 0`, "explain.bind.reuse", "", `close\(\d+\) = 0 .*TIME_WAIT`},
	{"timewait", `close\(\d+\) = 0  kernel: TIME_WAIT`, "explain.close.state", `close\(\d+\) = 0  kernel: TIME_WAIT`, ""},
	{"timewait", `close\(\d+\) = 0  kernel: CLOSED, other end TIME_WAIT`, "explain.close.state.other", `close\(\d+\) = 0  kernel: CLOSED, other end TIME_WAIT`, ""},
	{"reset", `setsockopt\(\d+, SOL_SOCKET, SO_LINGER`, "explain.setsockopt.SO_LINGER", "", ""},
	{"reset", `= -1 ECONNRESET`, "explain.read.reset", "", ""},
	{"reset", `close\(\d+\)$`, "explain.close.after_reset", "", `ECONNRESET`},
	{"timeout", `setsockopt\(\d+, SOL_SOCKET, SO_RCVTIMEO`, "explain.setsockopt.SO_RCVTIMEO", "", ""},
	{"timeout", `= -1 EAGAIN`, "explain.read.timeout", "", ""},
	{"udp", `recvfrom\(\d+, "hello"`, "explain.recvfrom", "", ""},
	{"unix", `bind\(\d+, /`, "explain.bind.path", "", ""},
	{"ipv6", `connect\(\d+, [^)]*\) = 0`, "explain.connect.end", "", ""},
	{"gonet", `Read\(\d+, "", \d+\) = 0`, "explain.read.eof", "", ""},
	{"http", `= -1 EAGAIN`, "explain.nonblock.eagain", "", ""},
	{"websocket", `= -1 EAGAIN`, "explain.nonblock.eagain", "", ""},
}

// TestKeyLinesAreExplained: every lesson's --explain says its point at the
// line where it shows, in English and in Chinese.
func TestKeyLinesAreExplained(t *testing.T) {
	for _, lang := range i18n.Langs {
		runs := map[string][]string{} // lesson → its lines, one run per lesson and language
		for _, tt := range keyLines {
			t.Run(string(lang)+"/"+tt.lesson+"/"+tt.key, func(t *testing.T) {
				lines, ok := runs[tt.lesson]
				if !ok {
					var stdout, stderr bytes.Buffer
					code := run(context.Background(), []string{"run", tt.lesson, "--explain", "--layout=lines", "--lang=" + string(lang)}, env{stdout: &stdout, stderr: &stderr})
					if code != 0 {
						t.Fatalf("exit %d: %s", code, stderr.String())
					}
					lines = strings.Split(stdout.String(), "\n")
					runs[tt.lesson] = lines
				}
				if tt.when != "" && !regexp.MustCompile(tt.when).MatchString(strings.Join(lines, "\n")) {
					t.Skipf("this run has no line like %s", tt.when)
				}
				// The lines' words are in the chosen language; the
				// patterns match the calls, which are the same in both.
				re := regexp.MustCompile(tt.line)
				want := "↳ " + lang.T(tt.key)
				from := 0
				if tt.after != "" {
					after := regexp.MustCompile(tt.after)
					for from < len(lines) && !after.MatchString(lines[from]) {
						from++
					}
				}
				for i := from; i < len(lines); i++ {
					line := lines[i]
					if !re.MatchString(line) {
						continue
					}
					if i+1 >= len(lines) || strings.TrimSpace(lines[i+1]) != want {
						t.Errorf("the first line like %s:\n%s\nis followed by\n%s\nwant\n%s", tt.line, line, lines[min(i+1, len(lines)-1)], want)
					}
					return
				}
				t.Errorf("no line like %s in:\n%s", tt.line, strings.Join(lines, "\n"))
			})
		}
	}
}

// TestRefusedBindPromisesNothing: in refused nobody ever listens on the
// port the server binds, so the sentence under its bind must not promise
// that clients will connect there (it said "clients will connect here").
func TestRefusedBindPromisesNothing(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"run", "refused", "--explain", "--layout=lines"}, env{stdout: &stdout, stderr: &stderr}); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	lines := strings.Split(stdout.String(), "\n")
	for i, line := range lines {
		if !regexp.MustCompile(`bind\(\d+, [^)]*\) = 0`).MatchString(line) || i+1 == len(lines) {
			continue
		}
		said := strings.TrimSpace(lines[i+1])
		if strings.Contains(said, "will connect") || !strings.Contains(said, "once it listens") {
			t.Errorf("refused's bind is explained as %q: nobody listens there", said)
		}
		return
	}
	t.Errorf("no bind in refused's run:\n%s", stdout.String())
}

// TestHandshakeHeadersWhole: the lessons that teach a protocol's headers
// show them whole — the websocket lesson's 101 response with its
// Sec-WebSocket-Accept, which a 64-byte preview cut off — even on a
// narrow terminal.
func TestHandshakeHeadersWhole(t *testing.T) {
	for _, width := range []int{0, 80} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), []string{"run", "websocket", "--layout=lines"}, env{stdout: &stdout, stderr: &stderr, termWidth: width}); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
		if !regexp.MustCompile(`(?i)Sec-WebSocket-Accept:\s+[A-Za-z0-9+/]{27}=`).MatchString(stdout.String()) {
			t.Errorf("width %d: no whole Sec-WebSocket-Accept header in:\n%s", width, stdout.String())
		}
	}
}
