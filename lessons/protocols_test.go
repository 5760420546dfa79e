package lessons

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/socklab/socklab/trace"
)

// unorderedCalls lists, sorted, the calls a peer finished, leaving out its
// reads and its calls that found nothing ready (EAGAIN) (see
// orderTest.unordered).
func unorderedCalls(events []trace.Event, peer string) []string {
	var calls []string
	for _, e := range events {
		if e.Peer == peer && e.Phase == trace.End && e.Op != trace.OpRead && e.Errno != "EAGAIN" {
			calls = append(calls, string(e.Op))
		}
	}
	slices.Sort(calls)
	return calls
}

// The calls of the http and websocket rows of orderTests.
var (
	listenerCalls = func(accepts int) []string {
		calls := []string{"create", "bind", "listen", "getsockname", "fcntl", "fcntl", "close"}
		for range accepts {
			calls = append(calls, "accept")
		}
		return calls
	}
	// fcntl twice: O_NONBLOCK, then the duplicate for Go's poller.
	dialCalls = []string{"create", "connect", "getsockname", "fcntl", "fcntl"}
	repeat    = func(n int, calls ...string) []string {
		var all []string
		for range n {
			all = append(all, calls...)
		}
		return all
	}
)

// connection is one TCP connection's two peers in the web lessons.
type connection struct{ client, server string }

func protocolConnections(n int) []connection {
	var conns []connection
	for i := 1; i <= n; i++ {
		conns = append(conns, connection{fmt.Sprintf("client-%d", i), fmt.Sprintf("server-%d", i)})
	}
	return conns
}

// streamOf is every byte a peer's reads (or writes) got, in order.
func streamOf(events []trace.Event, peer string, op trace.Op) []byte {
	var b []byte
	for _, e := range events {
		if e.Peer == peer && e.Op == op && e.Phase == trace.End && e.Err == nil {
			b = append(b, e.Data[:min(e.N, len(e.Data))]...)
		}
	}
	return b
}

// TestWebStreamsIntact: on every connection of the http and websocket
// lessons, each side read exactly the bytes the other wrote, in order,
// however many reads it took.
func TestWebStreamsIntact(t *testing.T) {
	for _, tt := range []struct {
		lesson string
		conns  int
	}{{"http", 4}, {"websocket", 1}} {
		t.Run(tt.lesson, func(t *testing.T) {
			events := runLesson(t, tt.lesson, Options{})
			for _, c := range protocolConnections(tt.conns) {
				for _, dir := range [][2]string{{c.client, c.server}, {c.server, c.client}} {
					wrote, read := streamOf(events, dir[0], trace.OpWrite), streamOf(events, dir[1], trace.OpRead)
					if len(wrote) == 0 || !bytes.Equal(wrote, read) {
						t.Errorf("%s wrote %q\n%s read %q", dir[0], wrote, dir[1], read)
					}
				}
			}
		})
	}
}

// seqOf returns the sequence number of the first event of peer, op and
// phase whose data contains part, or 0.
func seqOf(events []trace.Event, peer string, op trace.Op, phase trace.Phase, part string) uint64 {
	for _, e := range events {
		if e.Peer == peer && e.Op == op && e.Phase == phase && e.Err == nil && bytes.Contains(e.Data, []byte(part)) {
			return e.Seq
		}
	}
	return 0
}

// TestHTTPAnswersOnlyWhenAsked: on every connection, the server's k-th
// response begins only after the server has read all of the k-th request
// (up to the blank line that ends its headers): HTTP has no way for a
// server to speak first.
func TestHTTPAnswersOnlyWhenAsked(t *testing.T) {
	events := runLesson(t, "http", Options{})
	for _, c := range protocolConnections(4) {
		var heard, responses []uint64 // when request k was read whole; when response k began
		var read []byte
		for _, e := range events {
			switch {
			case e.Peer == c.server && e.Op == trace.OpRead && e.Phase == trace.End && e.Err == nil && e.N > 0:
				read = append(read, e.Data[:min(e.N, len(e.Data))]...)
				for len(heard) < bytes.Count(read, []byte("\r\n\r\n")) {
					heard = append(heard, e.Seq)
				}
			case e.Peer == c.server && e.Op == trace.OpWrite && e.Phase == trace.Begin && bytes.HasPrefix(e.Data, []byte("HTTP/1.1 200 OK")):
				responses = append(responses, e.Seq)
			}
		}
		want := 1
		if c.client == "client-4" {
			want = 3 // keep-alive: all three on one connection
		}
		if len(heard) != want || len(responses) != want {
			t.Fatalf("%s read %d requests and wrote %d responses, want %d each", c.server, len(heard), len(responses), want)
		}
		for k := range heard {
			if responses[k] < heard[k] {
				t.Errorf("%s's response %d (seq %d) began before it had read request %d (seq %d)", c.server, k+1, responses[k], k+1, heard[k])
			}
		}
	}
}

var headerValue = func(name string) *regexp.Regexp {
	return regexp.MustCompile(`(?i)\r\n` + name + `: ([^\r]+)\r\n`)
}

// TestWebSocketPushesUnasked: the handshake is one HTTP request and a 101
// response whose Sec-WebSocket-Accept is derived from the request's key
// (RFC 6455, section 4.2.2); then the server pushes three messages before
// the client has sent anything but its request.
func TestWebSocketPushesUnasked(t *testing.T) {
	events := runLesson(t, "websocket", Options{})
	toServer, toClient := streamOf(events, "client-1", trace.OpWrite), streamOf(events, "server-1", trace.OpWrite)
	key := headerValue("Sec-WebSocket-Key").FindSubmatch(toServer)
	accept := headerValue("Sec-WebSocket-Accept").FindSubmatch(toClient)
	if key == nil || accept == nil || !bytes.HasPrefix(toClient, []byte("HTTP/1.1 101 Switching Protocols\r\n")) {
		t.Fatalf("no Upgrade handshake:\nrequest %q\nresponse %q", toServer, toClient)
	}
	sum := sha1.Sum([]byte(string(key[1]) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	if want := base64.StdEncoding.EncodeToString(sum[:]); string(accept[1]) != want {
		t.Errorf("Sec-WebSocket-Accept %s for key %s; RFC 6455 gives %s", accept[1], key[1], want)
	}

	upgraded := seqOf(events, "server-1", trace.OpWrite, trace.Begin, "101 Switching Protocols")
	var pushes []uint64
	for _, e := range events {
		// A text frame from the server: FIN and opcode 1, unmasked.
		if e.Peer == "server-1" && e.Op == trace.OpWrite && e.Phase == trace.Begin && len(e.Data) > 2 && e.Data[0] == 0x81 {
			pushes = append(pushes, e.Seq)
		}
	}
	message := seqOf(events, "client-1", trace.OpWrite, trace.Begin, "\x81")
	firstPushRead := uint64(0)
	for _, e := range events {
		if e.Peer == "client-1" && e.Op == trace.OpRead && e.Phase == trace.End && e.Err == nil && bytes.Contains(e.Data, []byte{0x81, 12}) {
			firstPushRead = e.Seq
			break
		}
	}
	switch {
	case len(pushes) != 3:
		t.Fatalf("server pushed %d messages, want 3", len(pushes))
	case upgraded == 0 || firstPushRead == 0 || message == 0:
		t.Fatalf("101 response at seq %d, first push read at %d, client message at %d: something is missing", upgraded, firstPushRead, message)
	case !(upgraded < pushes[0] && upgraded < firstPushRead):
		t.Errorf("the 101 response (seq %d) must begin before the first push (seq %d) and before it is read (seq %d)", upgraded, pushes[0], firstPushRead)
	case pushes[2] > message:
		t.Errorf("the client's message (seq %d) began before the third push (seq %d): the server was not pushing unasked", message, pushes[2])
	}
	if strings.Count(string(toServer), "GET ") != 1 {
		t.Errorf("the client sent %d HTTP requests, want the one Upgrade", strings.Count(string(toServer), "GET "))
	}
}

// TestTrafficTable: the tables of both lessons, measured from real runs.
func TestTrafficTable(t *testing.T) {
	for _, tt := range []struct {
		lesson string
		want   map[string][3]int // what → messages, payload, connections
	}{
		{"http", map[string][3]int{"wire.http.close": {3, 36, 3}, "wire.http.keepalive": {3, 36, 1}}},
		{"websocket", map[string][3]int{"wire.ws.handshake": {0, 0, 1}, "wire.ws.server": {3, 36, 0}, "wire.ws.client": {1, len(DefaultMessage), 0}, "wire.ws.close": {2, 10, 0}}}, // each close frame carries status 1000 and "bye"
	} {
		t.Run(tt.lesson, func(t *testing.T) {
			l, _ := Lookup(tt.lesson)
			events := runLesson(t, tt.lesson, Options{})
			table, err := l.Traffic(events)
			if err != nil {
				t.Fatal(err)
			}
			written := 0
			for _, e := range events {
				if e.Op == trace.OpWrite && e.Phase == trace.End && e.Err == nil {
					written += e.N
				}
			}
			onWire := 0
			for _, r := range table.Rows {
				onWire += r.Written
				want, ok := tt.want[r.What]
				if !ok {
					t.Errorf("unexpected row %s", r.What)
					continue
				}
				if got := [3]int{r.Messages, r.Payload, r.Connections}; got != want {
					t.Errorf("%s: messages, payload, connections = %v, want %v", r.What, got, want)
				}
				delete(tt.want, r.What)
			}
			if len(tt.want) > 0 {
				t.Errorf("rows missing: %v", tt.want)
			}
			if onWire != written {
				t.Errorf("the table counts %d bytes on the wire; the trace's writes carried %d", onWire, written)
			}
			t.Logf("\n%s", table)
		})
	}
}

// TestWebSocketLongMessage: a message over the library's default limit
// (32 KiB) still goes through, and its frame header takes the 8-byte
// length (RFC 6455, section 5.2): 2 + 8 + 4 bytes of mask.
func TestWebSocketLongMessage(t *testing.T) {
	l, _ := Lookup("websocket")
	message := strings.Repeat("c", 70000)
	table, err := l.Traffic(runLesson(t, "websocket", Options{Message: message}))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range table.Rows {
		if r.What == "wire.ws.client" {
			if r.Messages != 1 || r.Payload != len(message) || r.Overhead() != 14 {
				t.Errorf("client → server: %d messages, %d payload bytes, %d overhead; want 1, %d, 14", r.Messages, r.Payload, r.Overhead(), len(message))
			}
			return
		}
	}
	t.Errorf("no client → server row in\n%s", table)
}
