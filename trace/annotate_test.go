package trace

import (
	"encoding/json"
	"reflect"
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

// TestPacketJSON: a packet's absent options are left out of JSON, and read
// back as absent (-1) whether a trace leaves them out or, as traces did
// before, says -1.
func TestPacketJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    Packet
		want string
	}{
		{"an ACK has no options", Packet{Proto: "tcp", From: "a", To: "b", Flags: "ACK", Seq: 1, Ack: 1, Window: 65536, MSS: -1, WScale: -1},
			`{"proto":"tcp","from":"a","to":"b","flags":"ACK","seq":1,"ack":1,"win":65536}`},
		{"a SYN has them", Packet{Proto: "tcp", From: "a", To: "b", Flags: "SYN", Window: 65495, MSS: 65495, WScale: 7, SACK: true},
			`{"proto":"tcp","from":"a","to":"b","flags":"SYN","seq":0,"ack":0,"win":65495,"mss":65495,"wscale":7,"sack":true}`},
		{"a window scale of 0 is one", Packet{Proto: "tcp", From: "a", To: "b", Flags: "SYN", MSS: 536, WScale: 0},
			`{"proto":"tcp","from":"a","to":"b","flags":"SYN","seq":0,"ack":0,"win":0,"mss":536,"wscale":0}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := json.Marshal(tt.p)
			if err != nil || string(got) != tt.want {
				t.Fatalf("Marshal = %s, %v; want %s", got, err, tt.want)
			}
			var back Packet
			if err := json.Unmarshal(got, &back); err != nil || !reflect.DeepEqual(back, tt.p) {
				t.Errorf("read back %+v, %v; want %+v", back, err, tt.p)
			}
		})
	}
	var old Packet
	if err := json.Unmarshal([]byte(`{"proto":"tcp","from":"a","to":"b","flags":"ACK","seq":1,"ack":1,"win":9,"mss":-1,"wscale":-1}`), &old); err != nil || old.MSS != -1 || old.WScale != -1 {
		t.Errorf("an older trace's -1 read as %+v, %v", old, err)
	}
}
