package lessons

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/socklab/socklab/trace"
)

// A TrafficTable says what a run of the http or websocket lesson sent,
// measured from its trace: the bytes each write really handed the kernel,
// parsed back into the HTTP messages and WebSocket frames they carried,
// and, when the run captured its packets (--wire), what those packets
// carried: IP and TCP headers, the handshake, the ACKs and the FINs.
// Nothing in it is typed in.
type TrafficTable struct {
	Rows []TrafficRow
	// Packets says the rows' Packets and PacketBytes were measured: the
	// trace holds the run's packets with their frames.
	Packets bool
}

// A TrafficRow is one kind of traffic.
type TrafficRow struct {
	// What names the traffic, as a catalogue key: "wire.http.close" (HTTP,
	// a connection per request), "wire.http.keepalive", "wire.ws.handshake"
	// (the HTTP Upgrade), "wire.ws.server" and "wire.ws.client" (messages
	// each way: a client's frames are masked, so their headers are
	// larger), "wire.ws.close" (close frames, both ways).
	What        string
	Messages    int // responses, or WebSocket messages, or close frames
	Payload     int // the bytes the application meant to send: bodies, frame payloads
	Written     int // every byte written, both directions
	Connections int // TCP connections opened for it
	// Packets and PacketBytes are the packets that carried this traffic
	// and their bytes from the IP header on (what the network carries),
	// both directions, the handshake, pure ACKs and FINs included; only
	// when TrafficTable.Packets.
	Packets, PacketBytes int
}

// Overhead is the bytes each message cost beyond its payload: headers, the
// request that asked for it, frame headers (0 when there is no message).
func (r TrafficRow) Overhead() int {
	if r.Messages == 0 {
		return 0
	}
	return (r.Written - r.Payload) / r.Messages
}

// carried is what one connection carried, each direction in order, and,
// once measured, which row each byte of it counts for.
type carried struct {
	toServer, toClient []byte
	// spans cover toServer's bytes (0) and toClient's (1) in order; the
	// first row is the connection's own (its HTTP kind, or the WebSocket
	// handshake), which its handshake, ACKs and FIN are counted with when
	// nothing else claims them; closing is the WebSocket close frames'.
	spans        [2][]span
	first, close *TrafficRow
}

// A span is bytes [from, to) of one direction, counted for row.
type span struct {
	from, to int
	row      *TrafficRow
}

// claim counts bytes [from, to) of direction dir for r.
func (s *carried) claim(dir, from, to int, r *TrafficRow) {
	if s.first == nil {
		s.first = r
	}
	if to > from {
		s.spans[dir] = append(s.spans[dir], span{from, to, r})
	}
}

// rowAt is the row byte off of direction dir counts for.
func (s *carried) rowAt(dir, off int) *TrafficRow {
	for _, sp := range s.spans[dir] {
		if off >= sp.from && off < sp.to {
			return sp.row
		}
	}
	return nil
}

// streams gathers, per TCP connection, the bytes each side wrote. A
// connection is known by the client's address: its ephemeral port makes it
// unique within a run.
func streams(events []trace.Event) (order []string, byConn map[string]*carried, err error) {
	byConn = make(map[string]*carried)
	for _, e := range events {
		if e.Op != trace.OpWrite || e.Phase != trace.End || e.Err != nil || e.N == 0 {
			continue
		}
		if len(e.Data) < e.N {
			return nil, nil, fmt.Errorf("the trace kept %d of the %d bytes %s wrote", len(e.Data), e.N, e.Peer)
		}
		key := e.Local
		if e.Role == trace.Server {
			key = e.Remote
		}
		s, ok := byConn[key]
		if !ok {
			s = &carried{}
			byConn[key] = s
			order = append(order, key)
		}
		if e.Role == trace.Server {
			s.toClient = append(s.toClient, e.Data[:e.N]...)
		} else {
			s.toServer = append(s.toServer, e.Data[:e.N]...)
		}
	}
	return order, byConn, nil
}

// measureTraffic builds the table from a run's events.
func measureTraffic(events []trace.Event) (TrafficTable, error) {
	order, byConn, err := streams(events)
	if err != nil {
		return TrafficTable{}, err
	}
	rows := map[string]*TrafficRow{}
	row := func(what string) *TrafficRow {
		if rows[what] == nil {
			rows[what] = &TrafficRow{What: what}
		}
		return rows[what]
	}
	for _, key := range order {
		s := byConn[key]
		if isUpgrade(s.toServer) {
			if err := measureWebSocket(s, row); err != nil {
				return TrafficTable{}, fmt.Errorf("connection from %s: %w", key, err)
			}
			continue
		}
		if err := measureHTTP(s, row); err != nil {
			return TrafficTable{}, fmt.Errorf("connection from %s: %w", key, err)
		}
	}
	var t TrafficTable
	t.Packets = countPackets(events, byConn)
	for _, what := range []string{"wire.http.close", "wire.http.keepalive", "wire.ws.handshake", "wire.ws.server", "wire.ws.client", "wire.ws.close"} {
		if r := rows[what]; r != nil {
			t.Rows = append(t.Rows, *r)
		}
	}
	return t, nil
}

// ethernetHeader is what loopback's frames carry before the IP header.
const ethernetHeader = 14

// countPackets adds the run's packets to the rows of the connections they
// belong to, and reports whether it could: the trace must hold packets
// (--wire) with their frames. A data segment counts for the row its first
// byte does; the handshake for the connection's first row; a FIN for the
// WebSocket close frames' row, if there is one; a pure ACK for the row of
// the last data the other side sent (what it acknowledges).
func countPackets(events []trace.Event, byConn map[string]*carried) bool {
	seen := false
	last := map[*carried][2]*TrafficRow{} // per connection, the row of each direction's last data
	for _, e := range events {
		p := e.Packet
		if p == nil || p.Proto != "tcp" {
			continue
		}
		if len(p.Frame) <= ethernetHeader {
			return false // a replay's packets: their frames are not kept
		}
		dir, s := 0, byConn[p.From]
		if s == nil {
			dir, s = 1, byConn[p.To]
		}
		if s == nil || s.first == nil {
			continue // a connection that carried nothing measured
		}
		seen = true
		r := s.first
		switch {
		case e.N > 0:
			if at := s.rowAt(dir, int(p.Seq)-1); at != nil {
				r = at
			}
			l := last[s]
			l[dir] = r
			last[s] = l
		case strings.Contains(p.Flags, "FIN") && s.close != nil:
			r = s.close
		case strings.Contains(p.Flags, "SYN"):
		default: // a pure ACK: of the other side's last data
			if other := last[s][1-dir]; other != nil {
				r = other
			}
		}
		r.Packets++
		r.PacketBytes += len(p.Frame) - ethernetHeader
	}
	return seen
}

func isUpgrade(toServer []byte) bool {
	head, _, _ := bytes.Cut(toServer, []byte("\r\n\r\n"))
	return bytes.Contains(bytes.ToLower(head), []byte("upgrade: websocket"))
}

// counting counts the bytes read through it, so that a bufio.Reader's
// position can be known: counted minus what it holds buffered.
type counting struct {
	r io.Reader
	n int
}

func (c *counting) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

// measureHTTP parses the requests and responses one connection carried,
// with net/http's own parsers.
func measureHTTP(s *carried, row func(string) *TrafficRow) error {
	reqs, resps := &counting{r: bytes.NewReader(s.toServer)}, &counting{r: bytes.NewReader(s.toClient)}
	reqR, respR := bufio.NewReader(reqs), bufio.NewReader(resps)
	var r *TrafficRow
	for {
		req, err := http.ReadRequest(reqR)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("request: %w", err)
		}
		if r == nil {
			what := "wire.http.keepalive"
			if req.Close {
				what = "wire.http.close"
			}
			r = row(what)
			r.Connections++
		}
		resp, err := http.ReadResponse(respR, req)
		if err != nil {
			return fmt.Errorf("response: %w", err)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("response body: %w", err)
		}
		r.Messages++
		r.Payload += len(body)
	}
	if r != nil {
		r.Written += len(s.toServer) + len(s.toClient)
		s.claim(0, 0, len(s.toServer), r)
		s.claim(1, 0, len(s.toClient), r)
	}
	return nil
}

// measureWebSocket parses one WebSocket connection: the HTTP Upgrade
// request and its 101 response, then the frames each way (RFC 6455,
// section 5.2).
func measureWebSocket(s *carried, row func(string) *TrafficRow) error {
	reqs, resps := &counting{r: bytes.NewReader(s.toServer)}, &counting{r: bytes.NewReader(s.toClient)}
	reqR, respR := bufio.NewReader(reqs), bufio.NewReader(resps)
	req, err := http.ReadRequest(reqR)
	if err != nil {
		return fmt.Errorf("upgrade request: %w", err)
	}
	resp, err := http.ReadResponse(respR, req)
	if err != nil {
		return fmt.Errorf("upgrade response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("upgrade answered %s", resp.Status)
	}
	hs := row("wire.ws.handshake")
	hs.Connections++
	hs.Written += reqs.n - reqR.Buffered() + resps.n - respR.Buffered()
	s.claim(0, 0, reqs.n-reqR.Buffered(), hs)
	s.claim(1, 0, resps.n-respR.Buffered(), hs)
	for i, dir := range []struct {
		r    *bufio.Reader
		c    *counting
		what string
	}{{reqR, reqs, "wire.ws.client"}, {respR, resps, "wire.ws.server"}} {
		for {
			at := dir.c.n - dir.r.Buffered()
			f, err := readFrame(dir.r)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return err
			}
			what := dir.what
			if f.opcode == opClose {
				what = "wire.ws.close"
			}
			w := row(what)
			w.Written += f.size
			if f.fin && f.opcode != opContinuation {
				w.Messages++
			}
			// A close frame's payload is its status code and reason
			// ("1000", "bye"): payload like any other.
			w.Payload += f.payload
			s.claim(i, at, at+f.size, w)
			if f.opcode == opClose {
				s.close = w
			}
		}
	}
	return nil
}

// WebSocket opcodes (RFC 6455, section 5.2).
const (
	opContinuation = 0x0
	opClose        = 0x8
)

// A frame is what measuring needs of a WebSocket frame.
type frame struct {
	fin           bool
	opcode        byte
	payload, size int // payload bytes, and the whole frame's
}

// readFrame reads one frame's header and skips its payload.
func readFrame(r *bufio.Reader) (frame, error) {
	var head [2]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return frame{}, errors.New("a frame cut short")
		}
		return frame{}, err
	}
	f := frame{fin: head[0]&0x80 != 0, opcode: head[0] & 0x0f, size: 2}
	masked := head[1]&0x80 != 0
	length := uint64(head[1] & 0x7f)
	ext := 0
	switch length {
	case 126:
		ext = 2
	case 127:
		ext = 8
	}
	if ext > 0 {
		b := make([]byte, ext)
		if _, err := io.ReadFull(r, b); err != nil {
			return frame{}, errors.New("a frame header cut short")
		}
		length = 0
		for _, c := range b {
			length = length<<8 | uint64(c)
		}
		f.size += ext
	}
	if masked {
		f.size += 4 // the masking key (every frame a client sends)
	}
	if length > 1<<30 {
		return frame{}, fmt.Errorf("a frame of %d bytes: not one this lesson sent", length)
	}
	f.payload = int(length)
	f.size += f.payload
	skip := f.size - 2 - ext
	if n, err := r.Discard(skip); err != nil || n != skip {
		return frame{}, errors.New("a frame cut short")
	}
	return f, nil
}

// String shows the table in English, for tests and logs; socklab prints
// it from its catalogues.
func (t TrafficTable) String() string {
	var b strings.Builder
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "%s: %d messages, %d payload bytes, %d bytes written, %d overhead bytes per message, %d connections",
			r.What, r.Messages, r.Payload, r.Written, r.Overhead(), r.Connections)
		if t.Packets {
			fmt.Fprintf(&b, ", %d packets of %d bytes", r.Packets, r.PacketBytes)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
