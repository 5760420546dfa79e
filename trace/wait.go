package trace

import (
	"strconv"
	"strings"
)

// A Wait is one descriptor of a poll (or select, or epoll set) and what it
// is waited for, or what it became ready for. Its JSON form is one entry of
// the "waits" array (docs/trace-format.md).
type Wait struct {
	FD int `json:"fd"`
	// Read and Write: readable (POLLIN, EPOLLIN, select's read set) and
	// writable (POLLOUT, EPOLLOUT, the write set). Hangup and Error are
	// reported only: the peer hung up (POLLHUP, EPOLLRDHUP), an error is
	// pending (POLLERR).
	Read    bool `json:"read,omitempty"`
	Write   bool `json:"write,omitempty"`
	Hangup  bool `json:"hangup,omitempty"`
	Error   bool `json:"error,omitempty"`
	Socket  bool `json:"socket,omitempty"`  // the descriptor is a socket
	Listens bool `json:"listens,omitempty"` // a listening socket: readable means a connection is queued
	// Remove marks an epoll_ctl that takes the descriptor out of the set.
	Remove bool `json:"remove,omitempty"`
}

// appendWaits renders ws as the call's argument: "[7 in, 9 in|out]".
func appendWaits(b []byte, ws []Wait) []byte {
	b = append(b, '[')
	for i, w := range ws {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(w.FD), 10)
		if ev := w.events(); ev != "" {
			b = append(append(b, ' '), ev...)
		}
	}
	return append(b, ']')
}

// events names what w is waited for or ready for, as poll's flags do, in
// short: "in", "out", "in|out", "in|hup".
func (w Wait) events() string {
	var parts []string
	if w.Read {
		parts = append(parts, "in")
	}
	if w.Write {
		parts = append(parts, "out")
	}
	if w.Hangup {
		parts = append(parts, "hup")
	}
	if w.Error {
		parts = append(parts, "err")
	}
	return strings.Join(parts, "|")
}

// waitNotes says, for each descriptor, what it is waited for (ready is
// false) or what it became ready for, and what that means for a socket:
// a listener's readable is a connection queued, a connected socket's is
// bytes (or the end of the stream), writable after connect is the
// handshake's end.
func waitNotes(ws []Wait, ready bool) []Note {
	var ns []Note
	for _, w := range ws {
		key := "wait.fd"
		switch {
		case w.Listens && w.Read:
			key = "wait.fd.listening"
		case w.Socket && w.Read && w.Write:
			key = "wait.fd.readwrite"
		case w.Socket && w.Read:
			key = "wait.fd.readable"
		case w.Socket && w.Write:
			key = "wait.fd.writable"
		}
		if ready {
			key = strings.Replace(key, "wait.", "ready.", 1)
		}
		args := []any{w.FD}
		if strings.HasSuffix(key, ".fd") { // what it is is not known: say the events
			args = append(args, w.events())
		}
		ns = append(ns, Note{Key: key, Args: args})
	}
	return ns
}
