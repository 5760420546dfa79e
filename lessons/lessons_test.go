package lessons

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/sock"
	"github.com/socklab/socklab/trace/tracetest"
)

func TestMain(m *testing.M) {
	// The timeout lesson waits for its deadline in half a dozen tests,
	// and the suite runs hundreds of times (go test -count=200): at the
	// lesson's 100 ms that alone took a minute and a half. The kernel's
	// SO_RCVTIMEO gives up the same way after 20 ms; the pages and the
	// command still show the lesson's own 100 ms.
	readDeadline = 20 * time.Millisecond
	goleak.VerifyTestMain(m)
}

// An orderTest is a lesson's row in orderTests.
type orderTest struct {
	lesson string
	calls  map[string][]string // peer → its calls, in order
	// rules are the lesson's causal rules across peers; for a lesson with
	// an expectation, those it adds to the expectation's (which are
	// checked too, and not written here again).
	rules []trace.Rule
	// endsOnly compares the ops of End events alone, for a lesson whose
	// calls nest (gonet sees socket() only from inside net.Dial).
	endsOnly bool
	// unordered compares how many of each call a peer made, not their
	// order, leaving out reads and calls that failed with EAGAIN: for the
	// lessons on non-blocking sockets (http, websocket), whose libraries
	// read and write a connection from two goroutines, try calls that may
	// find nothing ready, and read what arrives in as many reads as it
	// takes. Their reads are checked byte for byte instead (web_test.go).
	unordered bool
}

// orderTests has one row for every lesson, in teaching order: what each
// peer does (a total order: one goroutine per peer) and the rules across
// peers that causality guarantees (cause.Begin < effect.End; see
// trace.Rule). A lesson with an expectation (Lesson.Expect) is checked
// against its rules too, and its row's calls must contain the
// expectation's (TestOrderTableFollowsTheExpectations): rules is only
// what the lesson adds to that story.
var orderTests = []orderTest{
	{
		lesson: "basic",
		calls:  elevenStepsCalls,
		rules:  []trace.Rule{clientWaitsForListen},
	},
	{
		lesson: "echo",
		calls: map[string][]string{
			"server": {"create", "bind", "getsockname", "listen", "accept", "read", "write", "read", "write", "read", "write", "read(EOF)", "close", "close"},
			"client": {"create", "connect", "getsockname", "write", "read", "write", "read", "write", "read", "close"},
		},
		rules: rulesEcho(),
	},
	{
		lesson: "stream",
		// The server's reads are checked by TestStreamHasNoBoundaries: part
		// 2 takes one read or two.
		calls: map[string][]string{
			"client": {"create", "connect", "getsockname", "write", "write", "write", "write", "write", "close"},
		},
		rules: []trace.Rule{
			{Before: trace.BeginOf("client", trace.OpWrite), After: trace.EndOf("server", trace.OpRead)},
			{Before: trace.BeginOf("client", trace.OpWrite).Nth(2), After: trace.EndOf("server", trace.OpRead).Nth(4)},
			{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpRead).AtEOF()},
		},
	},
	{
		lesson: "halfclose",
		calls: map[string][]string{
			"server": {"create", "bind", "getsockname", "listen", "accept", "read", "read(EOF)", "write", "close", "close"},
			"client": {"create", "connect", "getsockname", "write", "shutdown", "read", "read(EOF)", "close"},
		},
		rules: []trace.Rule{
			{Before: trace.BeginOf("client", trace.OpShutdown), After: trace.EndOf("server", trace.OpRead).AtEOF()},
			{Before: trace.BeginOf("server", trace.OpWrite), After: trace.EndOf("client", trace.OpRead)},
			{Before: trace.BeginOf("server", trace.OpClose), After: trace.EndOf("client", trace.OpRead).AtEOF()},
		},
	},
	{
		lesson: "concurrent",
		calls:  concurrentCalls(),
		// Each connection's rules: TestConcurrentConnectionsKeepTheirOrder.
	},
	{
		lesson: "nonblocking",
		calls: map[string][]string{
			// accept and read fail with EAGAIN first (no client yet,
			// nothing sent yet); each peer waits only in poll.
			"server": {"create", "bind", "getsockname", "listen", "fcntl", "accept", "poll", "accept", "fcntl",
				"read", "poll", "read", "write", "poll", "read(EOF)", "close", "close"},
			"client": {"create", "fcntl", "connect", "poll", "getsockopt", "getsockname", "write", "poll", "read", "close"},
		},
		rules: []trace.Rule{
			// The client learns the address after the first accept's EAGAIN.
			{Before: trace.EndOf("server", trace.OpAccept), After: trace.BeginOf("client", trace.OpCreate)},
			{Before: trace.BeginOf("client", trace.OpConnect), After: trace.EndOf("server", trace.OpPoll)},
			{Before: trace.BeginOf("client", trace.OpConnect), After: trace.EndOf("server", trace.OpAccept).Nth(2)},
			// The client writes once the server's first read found nothing.
			{Before: trace.EndOf("server", trace.OpRead), After: trace.BeginOf("client", trace.OpWrite)},
			{Before: trace.BeginOf("client", trace.OpWrite), After: trace.EndOf("server", trace.OpPoll).Nth(2)},
			{Before: trace.BeginOf("client", trace.OpWrite), After: trace.EndOf("server", trace.OpRead).Nth(2)},
			{Before: trace.BeginOf("server", trace.OpWrite), After: trace.EndOf("client", trace.OpPoll).Nth(2)},
			{Before: trace.BeginOf("server", trace.OpWrite), After: trace.EndOf("client", trace.OpRead)},
			{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpPoll).Nth(3)},
			{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpRead).AtEOF()},
		},
	},
	{
		lesson: "epoll",
		// The server's calls depend on what each epoll_wait finds ready
		// (TestEpollServesEveryClient checks them); the clients' do not.
		calls: epollClientCalls(),
		rules: epollRules(),
	},
	{
		lesson: "backlog",
		calls:  backlogCalls(),
		rules:  backlogRules(),
	},
	{
		lesson: "refused",
		calls: map[string][]string{
			"server": {"create", "bind", "getsockname", "close"},
			"client": {"create", "connect", "close"},
		},
		// One goroutine makes every call: its order is the per-peer
		// sequences'; there is no causal rule across peers to check.
	},
	{
		lesson: "addrinuse",
		calls: map[string][]string{
			"server":   {"create", "bind", "setsockopt", "getsockname", "listen", "accept", "close", "close"},
			"server-2": {"create", "bind", "close"},
			"client":   {"create", "connect", "getsockname", "read(EOF)", "close"},
			"server-3": {"create", "bind", "close", "create", "setsockopt", "bind", "close"},
		},
		rules: []trace.Rule{
			{Before: trace.BeginOf("server", trace.OpClose), After: trace.EndOf("client", trace.OpRead).AtEOF()},
		},
	},
	{
		lesson: "timewait",
		calls: map[string][]string{
			"server":   {"create", "bind", "getsockname", "listen", "accept", "read(EOF)", "close", "accept", "close", "close"},
			"client-1": {"create", "connect", "getsockname", "close"},
			"client-2": {"create", "connect", "getsockname", "read(EOF)", "close"},
		},
		rules: []trace.Rule{
			{Before: trace.BeginOf("client-1", trace.OpClose), After: trace.EndOf("server", trace.OpRead).AtEOF()},
			{Before: trace.BeginOf("server", trace.OpClose).Nth(2), After: trace.EndOf("client-2", trace.OpRead).AtEOF()},
		},
	},
	{
		lesson: "reset",
		calls: map[string][]string{
			"server": {"create", "bind", "getsockname", "listen", "accept", "read", "close", "close"},
			"client": {"create", "connect", "getsockname", "setsockopt", "close"},
		},
		rules: []trace.Rule{
			{Before: trace.BeginOf("client", trace.OpConnect), After: trace.EndOf("server", trace.OpAccept)},
			{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpRead)},
		},
	},
	{
		lesson: "timeout",
		calls: map[string][]string{
			"server": {"create", "bind", "getsockname", "listen", "accept", "read(EOF)", "close", "close"},
			"client": {"create", "connect", "getsockname", "setsockopt", "read", "close"},
		},
		rules: []trace.Rule{{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpRead).AtEOF()}},
	},
	{
		lesson: "udp",
		calls: map[string][]string{
			"server": {"create", "bind", "getsockname", "recvfrom", "recvfrom", "sendto", "close"},
			"client": {"create", "sendto", "sendto", "recvfrom", "close"},
		},
		rules: []trace.Rule{
			{Before: trace.EndOf("server", trace.OpGetsockname), After: trace.BeginOf("client", trace.OpSendto)},
			{Before: trace.BeginOf("client", trace.OpSendto), After: trace.EndOf("server", trace.OpRecvfrom)},
			{Before: trace.BeginOf("client", trace.OpSendto).Nth(2), After: trace.EndOf("server", trace.OpRecvfrom).Nth(2)},
			{Before: trace.BeginOf("server", trace.OpSendto), After: trace.EndOf("client", trace.OpRecvfrom)},
		},
	},
	{
		lesson: "unix",
		calls: map[string][]string{
			"server": {"create", "bind", "listen", "accept", "read", "write", "read(EOF)", "close", "close"},
			"client": {"create", "connect", "write", "read", "close"},
		},
		rules: []trace.Rule{
			{Before: trace.EndOf("server", trace.OpListen), After: trace.BeginOf("client", trace.OpConnect)},
			{Before: trace.BeginOf("client", trace.OpConnect), After: trace.EndOf("server", trace.OpAccept)},
			{Before: trace.BeginOf("client", trace.OpWrite), After: trace.EndOf("server", trace.OpRead)},
			{Before: trace.BeginOf("server", trace.OpWrite), After: trace.EndOf("client", trace.OpRead)},
			{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpRead).AtEOF()},
		},
	},
	{
		// The same calls as basic's, over IPv6.
		lesson: "ipv6",
		calls:  elevenStepsCalls,
		rules:  []trace.Rule{clientWaitsForListen},
	},
	{
		lesson:   "gonet",
		endsOnly: true,
		calls: map[string][]string{
			// socket() is seen from inside net.Listen and net.Dial, which
			// return after it: create ends first.
			"server": {"create", "listen", "accept", "read", "write", "read(EOF)", "close", "close"},
			"client": {"create", "connect", "write", "read", "close"},
		},
		rules: []trace.Rule{
			{Before: trace.EndOf("server", trace.OpListen), After: trace.BeginOf("client", trace.OpConnect)},
			{Before: trace.BeginOf("client", trace.OpConnect), After: trace.EndOf("server", trace.OpAccept)},
			{Before: trace.BeginOf("client", trace.OpWrite), After: trace.EndOf("server", trace.OpRead)},
			{Before: trace.BeginOf("server", trace.OpWrite), After: trace.EndOf("client", trace.OpRead)},
			{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpRead).AtEOF()},
		},
	},
	{
		lesson:    "http",
		unordered: true,
		calls: map[string][]string{
			"server":   listenerCalls(4),
			"server-1": {"fcntl", "fcntl", "write", "close"},
			"server-2": {"fcntl", "fcntl", "write", "close"},
			"server-3": {"fcntl", "fcntl", "write", "close"},
			"server-4": {"fcntl", "fcntl", "write", "write", "write", "close"},
			"client-1": slices.Concat(dialCalls, []string{"write", "close"}),
			"client-2": slices.Concat(dialCalls, []string{"write", "close"}),
			"client-3": slices.Concat(dialCalls, []string{"write", "close"}),
			// Closed once told its idle connection is done.
			"client-4": slices.Concat(dialCalls, repeat(3, "write"), []string{"close"}),
		},
	},
	{
		lesson:    "websocket",
		unordered: true,
		calls: map[string][]string{
			"server": listenerCalls(1),
			// The 101 response, three pushes, the close frame.
			"server-1": slices.Concat([]string{"fcntl", "fcntl", "close"}, repeat(5, "write")),
			// The Upgrade request, the message, the close frame.
			"client-1": slices.Concat(dialCalls, []string{"write", "write", "write", "close"}),
		},
	},
}

// elevenStepsCalls are the calls of the basic exchange (basic, ipv6):
// the story's (elevenStepsExpected), and the getsockname each peer adds
// to learn its address.
var elevenStepsCalls = map[string][]string{
	"server": {"create", "bind", "getsockname", "listen", "accept", "read", "write", "read(EOF)", "close", "close"},
	"client": {"create", "connect", "getsockname", "write", "read", "close"},
}

// clientWaitsForListen is the rule serverAndClient adds to the 11-step
// story (basic, ipv6): its client waits for the listen to create its
// socket.
var clientWaitsForListen = trace.Rule{Before: trace.EndOf("server", trace.OpListen), After: trace.BeginOf("client", trace.OpCreate)}

// rulesEcho: each message is read after it was written, each echo after
// it was written back.
func rulesEcho() []trace.Rule {
	var rules []trace.Rule
	for k := 1; k <= len(echoMessages); k++ {
		rules = append(rules,
			trace.Rule{Before: trace.BeginOf("client", trace.OpWrite).Nth(k), After: trace.EndOf("server", trace.OpRead).Nth(k)},
			trace.Rule{Before: trace.BeginOf("server", trace.OpWrite).Nth(k), After: trace.EndOf("client", trace.OpRead).Nth(k)},
		)
	}
	return append(rules, trace.Rule{Before: trace.BeginOf("client", trace.OpClose), After: trace.EndOf("server", trace.OpRead).AtEOF()})
}

// clientCalls are what each client of backlog and concurrent does.
var clientCalls = []string{"create", "connect", "getsockname", "write", "read", "close"}

// backlogCalls: one server serves DefaultClients clients in turn.
func backlogCalls() map[string][]string {
	server := []string{"create", "bind", "getsockname", "listen"}
	calls := map[string][]string{}
	for i := range DefaultClients {
		calls[clientName(i)] = clientCalls
		server = append(server, "accept", "read", "write", "read(EOF)", "close")
	}
	calls["server"] = append(server, "close")
	return calls
}

// backlogRules: what the lesson shows, every connect returned before any
// accept.
func backlogRules() []trace.Rule {
	rules := []trace.Rule{}
	for i := range DefaultClients {
		rules = append(rules, trace.Rule{Before: trace.EndOf(clientName(i), trace.OpConnect), After: trace.BeginOf("server", trace.OpAccept)})
	}
	return rules
}

// epollClientCalls: each client of the epoll lesson is an ordinary
// blocking one.
func epollClientCalls() map[string][]string {
	calls := map[string][]string{}
	for i := range DefaultClients {
		calls[clientName(i)] = clientCalls
	}
	return calls
}

// epollRules: the clients connect once the server listens; the server's
// first wait ends once a client has begun to connect.
func epollRules() []trace.Rule {
	var rules []trace.Rule
	for i := range DefaultClients {
		rules = append(rules,
			trace.Rule{Before: trace.EndOf("server", trace.OpListen), After: trace.BeginOf(clientName(i), trace.OpConnect)},
			trace.Rule{Before: trace.BeginOf(clientName(i), trace.OpConnect), After: trace.EndOf("server", trace.OpAccept).Nth(DefaultClients)},
			trace.Rule{Before: trace.BeginOf(clientName(i), trace.OpClose), After: trace.EndOf("server", trace.OpClose).Nth(DefaultClients)},
		)
	}
	return rules
}

// concurrentCalls: the server accepts DefaultClients clients, each served
// by a handler of its own.
func concurrentCalls() map[string][]string {
	server := []string{"create", "bind", "getsockname", "listen"}
	calls := map[string][]string{}
	for i := range DefaultClients {
		calls[clientName(i)] = clientCalls
		calls[fmt.Sprintf("server-%d", i+1)] = []string{"read", "write", "read(EOF)", "close"}
		server = append(server, "accept")
	}
	calls["server"] = append(server, "close")
	return calls
}

// TestUDPKeepsDatagramBoundaries: two sends, two receives, each whole.
func TestUDPKeepsDatagramBoundaries(t *testing.T) {
	events := runLesson(t, "udp", Options{})
	for i, want := range udpDatagrams {
		e, _ := trace.Find(events, trace.EndOf("server", trace.OpRecvfrom).Nth(i+1))
		if string(e.Data) != want {
			t.Errorf("recvfrom %d got %q, want %q", i+1, e.Data, want)
		}
	}
}

// TestUnixRemovesItsFile: the path bind made is gone after the lesson.
func TestUnixRemovesItsFile(t *testing.T) {
	e, ok := trace.Find(runLesson(t, "unix", Options{}), trace.EndOf("server", trace.OpBind))
	if !ok || e.Local == "" {
		t.Fatal("no bind to a path")
	}
	if _, err := os.Stat(e.Local); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still exists after the lesson (stat: %v)", e.Local, err)
	}
}

// endOps lists a peer's End events, named as PeerCalls names calls.
func endOps(events []trace.Event, peer string) []string {
	var ops []string
	for _, e := range events {
		if e.Peer == peer && e.Phase == trace.End {
			name := string(e.Op)
			if e.EOF() {
				name += "(EOF)"
			}
			ops = append(ops, name)
		}
	}
	return ops
}

// TestStreamHasNoBoundaries checks what each of the server's reads got.
func TestStreamHasNoBoundaries(t *testing.T) {
	events := runLesson(t, "stream", Options{})
	var reads []string
	for _, e := range events {
		if e.Peer == "server" && e.Op == trace.OpRead && e.Phase == trace.End {
			reads = append(reads, string(e.Data))
		}
	}
	// One write, three reads.
	want := []string{string(streamBig[:1024]), string(streamBig[1024:2048]), string(streamBig[2048:])}
	if len(reads) < 3 || !slices.Equal(reads[:3], want) {
		t.Fatalf("part 1: reads %d bytes each; want 1024, 1024, 952", lens(reads[:min(3, len(reads))]))
	}
	reads = reads[3:]
	// Two writes, one read (or, rarely, two): never anything but pingpong.
	joined, i := "", 0
	for ; i < len(reads) && len(joined) < len("pingpong"); i++ {
		joined += reads[i]
	}
	if joined != "pingpong" {
		t.Fatalf("part 2: reads %q, want pingpong", reads[:i])
	}
	reads = reads[i:]
	// Frames, a character cut in two, end of file.
	want = []string{"\x00\x00\x00\x05", "hello", "\x00\x00\x00\x06", "你好", "你\xe5", "\xa5\xbd", ""}
	if !slices.Equal(reads, want) {
		t.Errorf("parts 3 and 4: reads %q, want %q", reads, want)
	}
}

func lens(s []string) []int {
	var n []int
	for _, x := range s {
		n = append(n, len(x))
	}
	return n
}

// TestConcurrentConnectionsKeepTheirOrder pairs each handler with its
// client by address, and checks the causal rules of each connection.
func TestConcurrentConnectionsKeepTheirOrder(t *testing.T) {
	events := runLesson(t, "concurrent", Options{Clients: 5})
	for i := range 5 {
		handler := fmt.Sprintf("server-%d", i+1)
		first, ok := trace.Find(events, trace.EndOf(handler, trace.OpRead))
		if !ok {
			t.Fatalf("%s never read", handler)
		}
		client := ""
		for j := range 5 {
			if local, _ := trace.Find(events, trace.EndOf(clientName(j), trace.OpGetsockname)); local.Local == first.Remote {
				client = clientName(j)
			}
		}
		if client == "" {
			t.Fatalf("no client has the address %s that %s reads from", first.Remote, handler)
		}
		err := trace.CheckOrder(events,
			trace.Rule{Before: trace.BeginOf(client, trace.OpWrite), After: trace.EndOf(handler, trace.OpRead)},
			trace.Rule{Before: trace.BeginOf(handler, trace.OpWrite), After: trace.EndOf(client, trace.OpRead)},
			trace.Rule{Before: trace.BeginOf(client, trace.OpClose), After: trace.EndOf(handler, trace.OpRead).AtEOF()},
		)
		if err != nil {
			t.Errorf("%s and %s: %v", handler, client, err)
		}
		if data := string(first.Data); data != "hello from "+client {
			t.Errorf("%s read %q from %s", handler, data, client)
		}
	}
}

// TestLessonsTeachTheirErrors checks that each error lesson's call failed
// with the errno it teaches, as the lesson plan numbers it.
func TestLessonsTeachTheirErrors(t *testing.T) {
	tests := []struct {
		lesson string
		point  trace.Point
		errno  string
		step   int
	}{
		{"refused", trace.EndOf("client", trace.OpConnect), "ECONNREFUSED", 5},
		{"reset", trace.EndOf("server", trace.OpRead), "ECONNRESET", 10},
		{"timeout", trace.EndOf("client", trace.OpRead), "EAGAIN", 10},
		{"nonblocking", trace.EndOf("server", trace.OpAccept), "EAGAIN", 6},
		{"nonblocking", trace.EndOf("client", trace.OpConnect), "EINPROGRESS", 5},
		{"nonblocking", trace.EndOf("client", trace.OpGetsockopt), "", 7},
		{"nonblocking", trace.EndOf("server", trace.OpRead), "EAGAIN", 10},
		{"addrinuse", trace.EndOf("server-2", trace.OpBind), "EADDRINUSE", 2},
		{"addrinuse", trace.EndOf("server-3", trace.OpBind), "EADDRINUSE", 2},
		{"addrinuse", trace.EndOf("server-3", trace.OpBind).Nth(2), "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.lesson+"/"+tt.point.String(), func(t *testing.T) {
			e, ok := trace.Find(runLesson(t, tt.lesson, Options{}), tt.point)
			if !ok {
				t.Fatalf("%v never happened", tt.point)
			}
			if e.Errno != tt.errno || e.Step != tt.step {
				t.Errorf("%v: errno %q step %d; want %q step %d", tt.point, e.Errno, e.Step, tt.errno, tt.step)
			}
		})
	}
}

func TestTimeoutWaitsForTheDeadline(t *testing.T) {
	e, _ := trace.Find(runLesson(t, "timeout", Options{}), trace.EndOf("client", trace.OpRead))
	// The kernel counts in clock ticks, so the read may return a tick
	// early by our clock; half the deadline is what no tick can explain.
	if e.Elapsed < readDeadline/2 {
		t.Errorf("the read gave up after %v, long before the %v deadline", e.Elapsed, readDeadline)
	}
}

func TestSummariesAreInTheCatalogue(t *testing.T) {
	for _, l := range All() {
		if !i18n.EN.Has("lesson." + l.Name) {
			t.Errorf("lesson %s has no English summary (key lesson.%[1]s in trace/i18n/en.go)", l.Name)
		}
		if got := i18n.EN.T("lesson." + l.Name); got != l.Summary {
			t.Errorf("lesson %s: catalogue says %q, Summary says %q", l.Name, got, l.Summary)
		}
		if !i18n.ZH.Has("lesson." + l.Name) {
			t.Errorf("lesson %s has no Chinese summary", l.Name)
		}
	}
}

func TestLessonOrder(t *testing.T) {
	for _, tt := range orderTests {
		t.Run(tt.lesson, func(t *testing.T) {
			l, ok := Lookup(tt.lesson)
			if !ok {
				t.Fatalf("no lesson %q", tt.lesson)
			}
			rules := tt.rules
			if l.Expect != nil {
				rules = append(l.Expect.Rules(), tt.rules...)
			}
			events := runLesson(t, tt.lesson, Options{})
			for peer, want := range tt.calls {
				got, err := trace.PeerCalls(events, peer)
				switch {
				case tt.endsOnly:
					got, err = endOps(events, peer), nil
				case tt.unordered:
					got, err, want = unorderedCalls(events, peer), nil, slices.Sorted(slices.Values(want))
				}
				if err != nil {
					t.Error(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s's calls:\ngot  %q\nwant %q", peer, got, want)
				}
			}
			if err := trace.CheckOrder(events, rules...); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestOrderTestsCoverEveryLesson(t *testing.T) {
	for _, l := range All() {
		if !slices.ContainsFunc(orderTests, func(o orderTest) bool { return o.lesson == l.Name }) {
			t.Errorf("lesson %q has no row in orderTests", l.Name)
		}
	}
	// One row a lesson, in teaching order: a row for a lesson that is
	// gone, or a second row, would be a story written twice.
	var rows, names []string
	for _, o := range orderTests {
		rows = append(rows, o.lesson)
	}
	for _, l := range All() {
		names = append(names, l.Name)
	}
	if !slices.Equal(rows, names) {
		t.Errorf("orderTests' rows are\n%q\nwant one a lesson, in teaching order (All):\n%q", rows, names)
	}
}

// TestOrderTableFollowsTheExpectations: for a lesson with an expectation,
// each peer's calls in its row of orderTests hold the expectation's calls,
// in the expectation's order (a call that may come anywhere, anywhere):
// the row adds only what the story leaves out (getsockname), so the two
// cannot tell different stories.
func TestOrderTableFollowsTheExpectations(t *testing.T) {
	for _, tt := range orderTests {
		l, _ := Lookup(tt.lesson)
		if l.Expect == nil {
			continue
		}
		t.Run(tt.lesson, func(t *testing.T) {
			for _, c := range l.Expect.Calls {
				if _, ok := tt.calls[c.Peer]; !ok {
					t.Errorf("the row has no calls of %s, whose %s the expectation names", c.Peer, c.Op)
				}
			}
			for peer, calls := range tt.calls {
				rest := calls
				for _, c := range l.Expect.Calls {
					if c.Peer != peer {
						continue
					}
					name := string(c.Op)
					if c.What == "eof" {
						name += "(EOF)"
					}
					if c.Anywhere {
						if !slices.Contains(calls, name) {
							t.Errorf("%s: the expectation's %s is not among the row's calls %q", peer, name, calls)
						}
						continue
					}
					i := slices.Index(rest, name)
					if i < 0 {
						t.Errorf("%s: the expectation's %s (%s) is not in the row's calls %q after the calls before it", peer, name, c.Missing, calls)
						break
					}
					rest = rest[i+1:]
				}
			}
		})
	}
}

func TestBasicEveryStep(t *testing.T) {
	events := runLesson(t, "basic", Options{})
	seen := make(map[int]bool)
	for _, e := range events {
		seen[e.Step] = true
	}
	for _, s := range trace.Steps {
		if !seen[s.Num] {
			t.Errorf("step %d (%s %s) never happened", s.Num, s.Role, s.Call)
		}
	}
}

func TestBasicCarriesTheBytes(t *testing.T) {
	tests := []struct {
		name           string
		message, reply string
	}{
		{"defaults", "", ""},
		{"chinese", "你好，世界", "收到"},
		{"emoji and accents", "héllo 👋", "ça va ✓"},
		{"control bytes", "a\x1b[2Jb\x00", "\r\n"},
		{"invalid UTF-8", "\xff\xfe\xfd", "ok"},
		{"one full buffer", string(make([]byte, ReadBuffer)), "ok"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{Message: tt.message, Reply: tt.reply}
			events := runLesson(t, "basic", opts)
			check := func(writer, reader, want string) {
				t.Helper()
				wrote := dataOf(events, trace.EndOf(writer, trace.OpWrite))
				read := dataOf(events, trace.EndOf(reader, trace.OpRead))
				if wrote != want || read != want {
					t.Errorf("%s wrote %q and %s read %q; want %q both", writer, wrote, reader, read, want)
				}
			}
			check("client", "server", opts.message())
			check("server", "client", opts.reply())
		})
	}
}

func TestBasicRejectsTextsLargerThanTheBuffer(t *testing.T) {
	l, _ := Lookup("basic")
	var rec trace.Recorder
	err := l.Run(context.Background(), trace.New(&rec), Options{Message: string(make([]byte, ReadBuffer+1))})
	if err == nil {
		t.Fatal("got no error, want one for a message larger than the read buffer")
	}
	if n := len(rec.Events()); n != 0 {
		t.Errorf("got %d events, want none: a bad option must stop the lesson before any socket", n)
	}
}

func TestBasicCancelledBeforeItStarts(t *testing.T) {
	// A lesson cancelled before it starts makes no socket at all.
	l, _ := Lookup("basic")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var rec trace.Recorder
	if err := l.Run(ctx, trace.New(&rec), Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if n := len(rec.Events()); n != 0 {
		t.Errorf("got %d events, want none", n)
	}
}

func TestServerInterruptedInAccept(t *testing.T) {
	// A server cancelled while it blocks in accept is woken (a traced
	// shutdown), closes its listening socket, and says it was interrupted.
	var rec trace.Recorder
	ctx, cancel := context.WithCancelCause(context.Background())
	before := openFDs(t)
	err := Server(ctx, trace.New(&rec).Peer("server", trace.Server), ServerConfig{
		Addr:      netip.MustParseAddrPort("127.0.0.1:0"),
		Reply:     func(context.Context, []byte) (string, error) { return "x", nil },
		Forever:   true,
		Listening: func(netip.AddrPort) { time.AfterFunc(20*time.Millisecond, func() { cancel(errors.New("bell rang")) }) },
	})
	if !errors.Is(err, sock.ErrInterrupted) {
		t.Fatalf("got %v, want an interrupted error", err)
	}
	events := rec.Events()
	// The shutdown comes from another goroutine in the middle of accept,
	// so the calls are checked by their End events.
	want := []string{"create", "bind", "getsockname", "listen", "shutdown", "accept", "close"}
	var ends []string
	for _, e := range events {
		if e.Phase == trace.End {
			ends = append(ends, string(e.Op))
		}
	}
	if !slices.Equal(ends, want) {
		t.Errorf("calls ended: got %q, want %q", ends, want)
	}
	acc, _ := trace.Find(events, trace.EndOf("server", trace.OpAccept))
	if acc.Interrupt != "bell rang" {
		t.Errorf("accept End's Interrupt = %q, want %q", acc.Interrupt, "bell rang")
	}
	checkClosedAll(t, events)
	if leaked := before.Leaked(openFDs(t)); leaked != nil {
		t.Errorf("descriptors left open: %v", leaked)
	}
}

func dataOf(events []trace.Event, p trace.Point) string {
	e, _ := trace.Find(events, p)
	return string(e.Data)
}

// runLesson runs a lesson with a recorder, and with a text sink on the
// test's output so that `go test -v` shows the lifecycle (in colour with
// SOCKLAB_COLOR=always). It fails the test if the lesson fails, leaves a
// descriptor open, leaves a socket unclosed, or runs past lessonDeadline.
func runLesson(t *testing.T, name string, opts Options) []trace.Event {
	t.Helper()
	events, err := playLesson(t, name, opts)
	if err != nil {
		t.Fatalf("lesson %s: %v", name, err)
	}
	return events
}

// playLesson is runLesson for a run that may fail: it returns the lesson's
// error with the events, after the same checks. Only a run that is stuck
// (past lessonDeadline) fails the test here, and a run of addrinuse that
// found no TIME_WAIT skips it.
func playLesson(t *testing.T, name string, opts Options) ([]trace.Event, error) {
	t.Helper()
	return playLessonCounting(t, name, opts, true)
}

// playLessonCounting is playLesson; countFDs false leaves out the count of
// the process's open descriptors before and after, for a run in parallel
// with others (each run's closes are still checked from its events).
func playLessonCounting(t *testing.T, name string, opts Options, countFDs bool) ([]trace.Event, error) {
	t.Helper()
	l, ok := Lookup(name)
	if !ok {
		t.Fatalf("no lesson %q", name)
	}
	rec := trace.Recorder{DataLimit: -1} // tests compare every byte
	// A run that outlives the test must not write to its output (that
	// panics): the sink goes quiet when this function returns.
	text := &quietAfter{sink: trace.NewTextSink(t.Output(), &trace.TextOptions{Color: os.Getenv("SOCKLAB_COLOR") == "always"})}
	defer text.quiet()
	var before tracetest.Descriptors
	if countFDs {
		before = openFDs(t)
	}
	err := runBounded(t.Context(), l, trace.New(trace.Multi(&rec, text)), &rec, opts, lessonDeadline, lessonGrace)
	if stuck := (*stuckRun)(nil); errors.As(err, &stuck) {
		t.Fatal(stuck)
	}
	skipIfNoTimeWait(t, err)
	if countFDs {
		if leaked := before.Leaked(openFDs(t)); leaked != nil {
			t.Errorf("descriptors left open by the lesson: %v", leaked)
		}
	}
	events := rec.Events()
	checkClosedAll(t, events)
	return events, err
}

// lessonDeadline bounds every lesson run of the tests. Unpaused, a lesson
// takes milliseconds; the slowest waits about a second on purpose (the
// client's wait for more after a full buffer, the stall watch). A run still
// going after 15 s is stuck, and the test says so, with where each peer
// was, instead of hanging until go test's timeout kills the whole package
// with nothing but goroutine dumps.
const lessonDeadline = 15 * time.Second

// lessonGrace is how long a run interrupted at its deadline has to return.
// Every lesson wakes its blocked calls when its context ends, in
// milliseconds; one that does not return is stuck outside any traced call.
const lessonGrace = 5 * time.Second

// errLessonDeadline is the cause of a run's context ended by its deadline:
// the calls it wakes say "test-deadline" in the trace.
var errLessonDeadline error = reasonError{"test-deadline", "the test's deadline for one lesson run passed"}

// shownEvents is how many of each peer's last events a stuck run shows.
const shownEvents = 3

// A stuckRun is the error of a lesson run that was still going at its
// deadline.
type stuckRun struct {
	lesson   string
	opts     Options
	deadline time.Duration
	grace    time.Duration
	events   []trace.Event // what was recorded when the deadline passed
	returned bool          // whether the run returned once interrupted
	err      error         // what it returned then
}

func (s *stuckRun) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lesson %s (%s) is stuck: still running at its %v deadline", s.lesson, describeOptions(s.opts), s.deadline)
	if s.returned {
		// One line: a joined error's lines are joined with "; ".
		fmt.Fprintf(&b, "; interrupted, it returned: %v", strings.ReplaceAll(fmt.Sprint(s.err), "\n", "; "))
	} else {
		fmt.Fprintf(&b, "; interrupted, it did not return within %v more", s.grace)
	}
	fmt.Fprintf(&b, "\nthe last %d events of each peer at the deadline:\n", shownEvents)
	b.WriteString(lastEvents(s.events, shownEvents))
	return strings.TrimSuffix(b.String(), "\n")
}

// runBounded runs l with tr, whose events rec records, for at most
// deadline. When the deadline passes it takes the events recorded so far,
// then ends the run's context with errLessonDeadline (which wakes every
// blocked call), waits up to grace for the run to return, and returns a
// *stuckRun. Otherwise it returns what the run returned.
//
// The deadline is a context.WithTimeoutCause, but the run's context is
// ended from it only after the events are taken: so they show where each
// peer was stuck, not what the interrupt then made it do.
func runBounded(ctx context.Context, l Lesson, tr *trace.Tracer, rec *trace.Recorder, opts Options, deadline, grace time.Duration) error {
	runCtx, interrupt := context.WithCancelCause(ctx)
	defer interrupt(nil)
	deadlineCtx, stop := context.WithTimeoutCause(ctx, deadline, errLessonDeadline)
	defer stop()
	done := make(chan error, 1) // a run that never returns leaves its goroutine blocked on nothing
	go func() { done <- l.Run(runCtx, tr, opts) }()
	select {
	case err := <-done:
		return err
	case <-deadlineCtx.Done():
	}
	if context.Cause(deadlineCtx) != errLessonDeadline {
		// The test itself ended first (its own deadline, a failure):
		// the run was interrupted with the same cause, so it returns.
		return <-done
	}
	stuck := &stuckRun{lesson: l.Name, opts: opts, deadline: deadline, grace: grace, events: rec.Events()}
	interrupt(errLessonDeadline)
	select {
	case stuck.err = <-done:
		stuck.returned = true
	case <-time.After(grace):
	}
	return stuck
}

// describeOptions says which options a run had, texts cut short.
func describeOptions(o Options) string {
	text := func(s string) string {
		const most = 40
		if s == "" {
			return "(default)"
		}
		if len(s) <= most {
			return strconv.Quote(s)
		}
		cut := 32
		for utf8.ValidString(s) && !utf8.RuneStart(s[cut]) {
			cut-- // a valid text is cut between characters
		}
		return fmt.Sprintf("%q… (%d bytes)", s[:cut], len(s))
	}
	clients := "(default)"
	if o.Clients != 0 {
		clients = strconv.Itoa(o.Clients)
	}
	return fmt.Sprintf("message %s, reply %s, clients %s", text(o.Message), text(o.Reply), clients)
}

// lastEvents lists the last n events of each peer, peers in the order they
// first appear, one event a line: sequence number, peer, op, phase,
// syscall, and on an End its result, errno and why it was woken. A peer
// whose last event is a Begin is still in that call.
func lastEvents(events []trace.Event, n int) string {
	var peers []string
	byPeer := map[string][]trace.Event{}
	for _, e := range events {
		if _, ok := byPeer[e.Peer]; !ok {
			peers = append(peers, e.Peer)
		}
		byPeer[e.Peer] = append(byPeer[e.Peer], e)
	}
	if len(peers) == 0 {
		return "  (no event was recorded)\n"
	}
	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	for _, peer := range peers {
		all := byPeer[peer]
		last := all[max(0, len(all)-n):]
		if len(all) > n {
			fmt.Fprintf(w, "  %s\t…\t\t\t\t(%d earlier)\n", peer, len(all)-n)
		}
		for i, e := range last {
			var more []string
			if e.Phase == trace.End {
				more = append(more, fmt.Sprintf("ret=%d", e.Ret))
				if e.Errno != "" {
					more = append(more, "errno="+e.Errno)
				}
				if e.Interrupt != "" {
					more = append(more, "interrupt="+e.Interrupt)
				}
			} else if i == len(last)-1 {
				more = append(more, "(still in this call)")
			}
			fmt.Fprintf(w, "  %s\t#%d\t%s\t%s\t%s\t%s\n", peer, e.Seq, e.Op, e.Phase, e.Syscall, strings.Join(more, " "))
		}
	}
	w.Flush()
	var out strings.Builder
	for line := range strings.Lines(b.String()) {
		out.WriteString(strings.TrimRight(line, " \n") + "\n") // tabwriter pads empty cells
	}
	return out.String()
}

// quietAfter hands events to sink until quiet is called, then drops them.
type quietAfter struct {
	mu    sync.Mutex
	sink  trace.Sink
	muted bool
}

func (q *quietAfter) Handle(e trace.Event) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.muted {
		return nil
	}
	return q.sink.Handle(e)
}

func (q *quietAfter) quiet() {
	q.mu.Lock()
	q.muted = true
	q.mu.Unlock()
}

// TestStuckRunSaysWhere plays a lesson stuck in a way the stall watch
// cannot see (the client waits on a channel, not in a socket call, while
// the server reads), under a short deadline: the run must end soon after
// it, and the error must name the lesson, its options and where each peer
// was.
func TestStuckRunSaysWhere(t *testing.T) {
	const deadline = 100 * time.Millisecond
	stuck := Lesson{Name: "stuck", Run: func(ctx context.Context, tr *trace.Tracer, _ Options) error {
		return oneConnection(ctx, tr,
			func(ctx context.Context, conn *sock.Socket) error {
				_, err := conn.Read(ctx, make([]byte, ReadBuffer)) // nothing ever comes
				return err
			},
			func(ctx context.Context, s *sock.Socket) error {
				<-ctx.Done() // no socket call: to the stall watch, the client is busy
				return context.Cause(ctx)
			},
		)
	}}
	opts := Options{Message: strings.Repeat("你好", 100), Reply: "ok", Clients: 2}
	var rec trace.Recorder
	before := openFDs(t)
	start := time.Now()
	err := runBounded(t.Context(), stuck, trace.New(&rec), &rec, opts, deadline, time.Second)
	took := time.Since(start)
	var s *stuckRun
	if !errors.As(err, &s) {
		t.Fatalf("got %v, want a *stuckRun", err)
	}
	if took < deadline || took > deadline+trace.StallAfter/2 {
		t.Errorf("the run ended after %v, want a little over its %v deadline", took, deadline)
	}
	if !s.returned || !errors.Is(s.err, errLessonDeadline) {
		t.Errorf("interrupted, the run returned %v (returned: %v), want the deadline's cause", s.err, s.returned)
	}
	msg := err.Error()
	t.Logf("what a stuck run says:\n%s", msg)
	for _, want := range []string{
		"lesson stuck (",
		`message "你好你好你好你好你好"… (600 bytes), reply "ok", clients 2`,
		"still running at its 100ms deadline",
		"; interrupted, it returned: read: interrupted: the test's deadline for one lesson run passed; ",
		"the last 3 events of each peer at the deadline:",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message does not say %q:\n%s", want, msg)
		}
	}
	// Where each peer was: the server in its read, the client after its
	// connect, three events each.
	var server, client []string
	for _, line := range strings.Split(msg, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) < 5 || f[1] == "…":
		case f[0] == "server":
			server = append(server, strings.Join(f[2:], " "))
		case f[0] == "client":
			client = append(client, strings.Join(f[2:], " "))
		}
	}
	if want := "read begin read (still in this call)"; len(server) != 3 || server[2] != want {
		t.Errorf("the server's last events:\n%q\nwant three, the last %q", server, want)
	}
	if want := []string{"connect end connect ret=0", "getsockname begin getsockname", "getsockname end getsockname ret=0"}; !slices.Equal(client, want) {
		t.Errorf("the client's last events:\n%q\nwant\n%q", client, want)
	}
	checkClosedAll(t, rec.Events())
	if leaked := before.Leaked(openFDs(t)); leaked != nil {
		t.Errorf("descriptors left open: %v", leaked)
	}
}

// TestStuckRunThatDoesNotReturn: a run that ignores its context is still
// reported, once the grace after the deadline is over.
func TestStuckRunThatDoesNotReturn(t *testing.T) {
	release, exited := make(chan struct{}), make(chan struct{})
	deaf := Lesson{Name: "deaf", Run: func(context.Context, *trace.Tracer, Options) error {
		defer close(exited)
		<-release
		return nil
	}}
	var rec trace.Recorder
	start := time.Now()
	err := runBounded(t.Context(), deaf, trace.New(&rec), &rec, Options{}, 25*time.Millisecond, 25*time.Millisecond)
	took := time.Since(start)
	close(release)
	<-exited // no goroutine left behind for goleak
	var s *stuckRun
	if !errors.As(err, &s) || s.returned {
		t.Fatalf("got %v, want a *stuckRun that did not return", err)
	}
	if took > time.Second {
		t.Errorf("reported after %v, want about 50ms (deadline and grace)", took)
	}
	want := "lesson deaf (message (default), reply (default), clients (default)) is stuck: still running at its 25ms deadline; interrupted, it did not return within 25ms more\n" +
		"the last 3 events of each peer at the deadline:\n  (no event was recorded)"
	if got := err.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// checkClosedAll checks that every descriptor a peer got was closed.
func checkClosedAll(t *testing.T, events []trace.Event) {
	t.Helper()
	open := make(map[int]string)
	created := make(map[string]int) // each peer's last new descriptor
	for _, e := range events {
		if e.Phase != trace.End {
			continue
		}
		switch e.Op {
		case trace.OpCreate, trace.OpAccept:
			if e.Ret >= 0 { // a new descriptor, even if an error came with it
				open[e.Ret] = e.Peer
				created[e.Peer] = e.Ret
			}
		case trace.OpConnect:
			// In gonet, a net.Dial that fails closes the socket it made
			// itself, where the trace cannot see (strace can).
			if e.Syscall == "net.Dial" && e.Err != nil {
				delete(open, created[e.Peer])
			}
		case trace.OpClose:
			delete(open, e.FD)
		}
	}
	for fd, peer := range open {
		t.Errorf("%s never closed fd %d", peer, fd)
	}
}

// openFDs is a snapshot of the process's open descriptors, where the
// system tells.
func openFDs(t *testing.T) tracetest.Descriptors {
	t.Helper()
	fds, err := tracetest.OpenDescriptors()
	if err != nil {
		t.Skipf("cannot list open descriptors here: %v", err)
	}
	return fds
}

func TestConductorPlaysTheTeachingOrder(t *testing.T) {
	// With a conductor, the order of the calls it gates is exact: it is the
	// lesson's script, every time.
	for _, l := range All() {
		if l.Script == nil {
			continue // paced as its calls come: nothing exact to check
		}
		t.Run(l.Name, func(t *testing.T) {
			var rec trace.Recorder
			var paced []string
			pace := func(_ context.Context, e *trace.Event) error {
				paced = append(paced, e.Peer+" "+string(e.Op)) // one at a time: no lock needed
				return nil
			}
			tr := trace.New(&rec).SetGate(trace.NewConductor(t.Context(), l.Script, pace))
			before := openFDs(t)
			if err := l.Run(t.Context(), tr, Options{}); err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, p := range l.Script {
				want = append(want, p.Peer+" "+string(p.Op))
			}
			if !slices.Equal(paced, want) {
				t.Errorf("paced:\ngot  %q\nwant %q", paced, want)
			}
			// The Begins of the scripted calls come in the script's order.
			var begins []string
			seen := map[string]int{}
			for _, e := range rec.Events() {
				if e.Phase != trace.Begin {
					continue
				}
				k := e.Peer + " " + string(e.Op)
				seen[k]++
				if scripted(l.Script, e.Peer, e.Op, seen[k]) {
					begins = append(begins, k)
				}
			}
			if !slices.Equal(begins, want) {
				t.Errorf("begins:\ngot  %q\nwant %q", begins, want)
			}
			checkClosedAll(t, rec.Events())
			if leaked := before.Leaked(openFDs(t)); leaked != nil {
				t.Errorf("descriptors left open: %v", leaked)
			}
		})
	}
}

// scripted reports whether the nth call of peer's op is in the script.
func scripted(script []trace.Point, peer string, op trace.Op, nth int) bool {
	for _, p := range script {
		if p.Peer == peer && p.Op == op {
			if nth--; nth == 0 {
				return true
			}
		}
	}
	return false
}

func TestConductorStop(t *testing.T) {
	// q at the third prompt: the run stops before step 3, and every socket
	// made so far is closed, its close traced.
	l, _ := Lookup("basic")
	var rec trace.Recorder
	calls := 0
	pace := func(_ context.Context, e *trace.Event) error {
		if calls++; calls == 3 {
			return trace.ErrStopped
		}
		return nil
	}
	tr := trace.New(&rec).SetGate(trace.NewConductor(t.Context(), l.Script, pace))
	err := l.Run(t.Context(), tr, Options{})
	if !errors.Is(err, trace.ErrStopped) {
		t.Fatalf("got %v, want ErrStopped", err)
	}
	events := rec.Events()
	if _, ok := trace.Find(events, trace.BeginOf("server", trace.OpListen)); ok {
		t.Error("listen began after the stop")
	}
	checkClosedAll(t, events)
	if _, ok := trace.Find(events, trace.EndOf("server", trace.OpClose)); !ok {
		t.Error("the server's socket was not closed")
	}
}

// skipIfNoTimeWait skips a test whose run of addrinuse could not happen
// because the kernel kept no TIME_WAIT (its table was full, as it gets on
// a machine whose tests have closed tens of thousands of connections in a
// minute): the environment, not the lesson.
func skipIfNoTimeWait(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, ErrNoTimeWait) {
		t.Skip(err)
	}
}
