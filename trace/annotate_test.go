package trace

import (
	"strings"
	"testing"

	"github.com/socklab/socklab/trace/i18n"
)

// TestAnnotatorNotes checks the notes a line gets for calls whose meaning
// hangs on a detail of the event.
func TestAnnotatorNotes(t *testing.T) {
	tests := []struct {
		name string
		e    Event
		want string // the notes, said in English and joined by " | "
	}{
		{"python's sendall on TCP is a write",
			Event{Op: OpWrite, Phase: Begin, Syscall: "sendto", FD: 3, Kind: "tcp", Offered: 2, Arg: "2", N: 2, Data: []byte("hi")},
			"(sendto on a connected socket: a write)"},
		{"a datagram's sendmsg is no stand-in",
			Event{Op: OpSendto, Phase: Begin, Syscall: "sendmsg", FD: 3, Kind: "udp", Offered: 2, Arg: "2", N: 2, Data: []byte("hi")},
			""},
		{"a datagram's recvmsg neither",
			Event{Op: OpRecvfrom, Phase: Begin, Syscall: "recvmsg", FD: 3, Kind: "udp", Offered: 9, Arg: "9"},
			"blocks: waiting for a datagram"},
		{"a read that filled its buffer",
			Event{Op: OpRead, Phase: End, Syscall: "read", FD: 3, Offered: 2, Arg: "2", Ret: 2, N: 2, Data: []byte("hi")},
			"the buffer is full: more bytes may be waiting for the next read"},
		{"an accept that knows its queue",
			Event{Op: OpAccept, Phase: Begin, Syscall: "accept4", FD: 3, QueueKnown: true, Queued: 2},
			"2 connections queued: returns at once"},
		{"a first write that says a non-blocking connect is done",
			Event{Op: OpWrite, Phase: End, Syscall: "write", FD: 3, Kind: "tcp", Offered: 2, Arg: "2", Ret: 2, N: 2, Data: []byte("hi"), Nonblock: true, Connected: true},
			"the first bytes moved: the handshake was done, the socket is connected (the program never asked SO_ERROR)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			an := NewAnnotator(nil).Annotate(&tt.e)
			var said []string
			for _, n := range an.Notes {
				said = append(said, n.In(i18n.EN))
			}
			if got := strings.Join(said, " | "); got != tt.want {
				t.Errorf("notes %q, want %q", got, tt.want)
			}
		})
	}
}
