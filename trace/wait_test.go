package trace

import (
	"bytes"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/socklab/socklab/trace/i18n"
)

// waitingRun is what a non-blocking program's calls look like: a
// selectors server (epoll) and a client whose socket has a timeout
// (settimeout: ioctl FIONBIO, connect EINPROGRESS, poll for writable,
// getsockopt SO_ERROR), and a blocking server whose accept and read find
// what they want already queued.
func waitingRun() []Event {
	ms := time.Millisecond
	srv := func(e Event) Event { e.Peer, e.Role, e.PID = "server", Server, 100; return e }
	cli := func(e Event) Event { e.Peer, e.Role, e.PID = "client", Client, 200; return e }
	return []Event{
		srv(Event{Op: OpEpollCreate, Phase: End, Syscall: "epoll_create1", FD: -1, Arg: "EPOLL_CLOEXEC", Ret: 4}),
		srv(Event{Op: OpEpollCtl, Phase: End, Syscall: "epoll_ctl", FD: 4, Command: "EPOLL_CTL_ADD", Waits: []Wait{{FD: 3, Read: true, Socket: true, Listens: true}}}),
		srv(Event{Op: OpPoll, Phase: Begin, Syscall: "epoll_wait", FD: 4, Arg: "-1", Timeout: -1, Waits: []Wait{{FD: 3, Read: true, Socket: true, Listens: true}}}),
		cli(Event{Op: OpIoctl, Phase: End, Syscall: "ioctl", FD: 3, Command: "FIONBIO", Arg: "FIONBIO, [1]", Value: 1}),
		cli(Event{Op: OpConnect, Phase: Begin, Syscall: "connect", FD: 3, Remote: "127.0.0.1:1234", Nonblock: true}),
		cli(Event{Op: OpConnect, Phase: End, Syscall: "connect", FD: 3, Remote: "127.0.0.1:1234", Nonblock: true, Ret: -1,
			Err: syscall.EINPROGRESS, Errno: "EINPROGRESS"}),
		cli(Event{Op: OpPoll, Phase: Begin, Syscall: "poll", FD: -1, Arg: "5000", Timeout: 5 * time.Second, Waits: []Wait{{FD: 3, Write: true, Socket: true}}}),
		cli(Event{Op: OpPoll, Phase: End, Syscall: "poll", FD: -1, Arg: "5000", Timeout: 5 * time.Second, Ret: 1, Elapsed: 80 * time.Microsecond,
			Waits: []Wait{{FD: 3, Write: true, Socket: true}}}),
		cli(Event{Op: OpGetsockopt, Phase: End, Syscall: "getsockopt", FD: 3, Option: "SO_ERROR", Arg: "SOL_SOCKET, SO_ERROR, [0]", Connected: true}),
		srv(Event{Op: OpPoll, Phase: End, Syscall: "epoll_wait", FD: 4, Arg: "-1", Timeout: -1, Ret: 1, Elapsed: ms,
			Waits: []Wait{{FD: 3, Read: true, Socket: true, Listens: true}}}),
		srv(Event{Op: OpAccept, Phase: Begin, Syscall: "accept4", FD: 3, Nonblock: true, QueueKnown: true, Queued: 1}),
		srv(Event{Op: OpAccept, Phase: End, Syscall: "accept4", FD: 3, Nonblock: true, Ret: 5, Remote: "127.0.0.1:5000"}),
		srv(Event{Op: OpRead, Phase: Begin, Syscall: "recvfrom", FD: 5, Nonblock: true, Offered: 1024, Arg: "1024"}),
		srv(Event{Op: OpRead, Phase: End, Syscall: "recvfrom", FD: 5, Nonblock: true, Offered: 1024, Arg: "1024", Ret: -1,
			Err: syscall.EAGAIN, Errno: "EAGAIN"}),
		srv(Event{Op: OpEpollCtl, Phase: End, Syscall: "epoll_ctl", FD: 4, Command: "EPOLL_CTL_DEL", Waits: []Wait{{FD: 5, Remove: true}}}),
		srv(Event{Op: OpPoll, Phase: End, Syscall: "epoll_wait", FD: 4, Arg: "0", Nonblock: true, Ret: 0}),
		// A blocking server that asked the kernel first.
		srv(Event{Op: OpAccept, Phase: Begin, Syscall: "accept", FD: 3, QueueKnown: true, Queued: 3}),
		srv(Event{Op: OpAccept, Phase: Begin, Syscall: "accept", FD: 3, QueueKnown: true}),
		srv(Event{Op: OpRead, Phase: Begin, Syscall: "read", FD: 6, Offered: 1024, Arg: "1024", QueueKnown: true, Queued: 14}),
		srv(Event{Op: OpRecvfrom, Phase: Begin, Syscall: "recvfrom", FD: 7, Kind: "udp", Offered: 1024, Arg: "1024", QueueKnown: true}),
	}
}

// TestTextSinkWaits pins what the lines of waiting calls say, in both
// languages, explained: where the program waits (poll, epoll_wait), what it
// waits for and what became ready; no "blocks" on a non-blocking call; EAGAIN
// and EINPROGRESS for what they are; step 7 where SO_ERROR says connected;
// and an accept or read that says, from the kernel's queues, whether it
// will wait.
func TestTextSinkWaits(t *testing.T) {
	for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
		t.Run(string(lang), func(t *testing.T) {
			var buf bytes.Buffer
			tr := New(NewTextSink(&buf, &TextOptions{Lang: lang, Explain: true}))
			for i, e := range waitingRun() {
				e.Seq, e.Time = uint64(i+1), time.Duration(i)*100*time.Microsecond
				e.Step = stepOf(e.Role, &e, e.Phase)
				if err := tr.sink.Handle(e); err != nil {
					t.Fatal(err)
				}
			}
			checkGolden(t, fmt.Sprintf("text_waits_%s.golden", lang), buf.Bytes())
			if bytes.Contains(buf.Bytes(), []byte("blocks:")) {
				t.Errorf("a line of a non-blocking run says it blocks:\n%s", buf.String())
			}
		})
	}
}

// TestRuleSaid: a rule reads in English as its String does, and in
// Chinese with no English word but the calls' names.
func TestRuleSaid(t *testing.T) {
	r := Rule{Before: BeginOf("client", OpClose), After: EndOf("server", OpRead).AtEOF()}
	if got, want := r.Say(i18n.EN), r.String(); got != want {
		t.Errorf("EN: %q, want %q", got, want)
	}
	if got, want := r.Say(i18n.ZH), "客户端 关闭 开始 < 服务器 读（EOF） 结束"; got != want {
		t.Errorf("ZH: %q, want %q", got, want)
	}
}

// TestSharedEpoch: two tracers started apart, as socklab server and
// socklab client are in two terminals, given the same epoch, stamp on one
// clock: what the second records later is stamped later, never before.
func TestSharedEpoch(t *testing.T) {
	midnight := time.Now().Truncate(24 * time.Hour)
	var first, second Recorder
	server := New(&first).SetEpoch(midnight).Peer("server", Server)
	e := Event{Op: OpWrite, FD: 3}
	server.Begin(&e)
	time.Sleep(20 * time.Millisecond) // the client's terminal starts later
	client := New(&second).SetEpoch(midnight).Peer("client", Client)
	r := Event{Op: OpRead, FD: 4}
	client.End(&r, client.Begin(&r))
	w, rd := first.Events()[0], second.Events()[1]
	if rd.Time <= w.Time || w.Time < time.Since(midnight)-time.Minute {
		t.Errorf("the write stamped %v, the later read %v: not one clock since %v", w.Time, rd.Time, midnight)
	}
	var b bytes.Buffer
	NewTextSink(&b, &TextOptions{ClockOfDay: true}).Handle(Event{Peer: "client", Role: Client, Op: OpGetsockname, Phase: End, Syscall: "getsockname",
		FD: 4, Time: 17*time.Hour + 33*time.Minute + 12*time.Second + 345*time.Millisecond})
	if !strings.HasPrefix(b.String(), "17:33:12.345  client") {
		t.Errorf("a line on the clock of day: %q", b.String())
	}
}

// A wait's notes in JSON: its descriptors are notes of their own, with the
// same lower-case keys as every note.
func TestJSONWaitNotes(t *testing.T) {
	var buf bytes.Buffer
	s := NewJSONSink(&buf, nil)
	e := Event{Seq: 1, Peer: "client", Role: Client, Op: OpPoll, Phase: Begin, Syscall: "poll", FD: -1, Arg: "5000",
		Timeout: 5 * time.Second, Waits: []Wait{{FD: 3, Write: true, Socket: true}}}
	if err := s.Handle(e); err != nil {
		t.Fatal(err)
	}
	want := `"notes":[{"key":"wait.poll","args":[[{"key":"wait.fd.writable","args":[3]}]]}]`
	if !bytes.Contains(buf.Bytes(), []byte(want)) {
		t.Errorf("got %s\nwant it to hold %s", buf.Bytes(), want)
	}
}
