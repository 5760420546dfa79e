package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/wire"
)

// A packetMatch is how much of a lesson's packets must be the same in
// every run for its page to stay true: what the kernels guarantee, and no
// less. Each lesson was run with --wire again and again, on an idle
// machine and on a busy one, and its match is what held in all of them,
// for a reason the kernel gives.
//
// One thing is never compared, in any lesson: whether the ACK of a FIN
// goes alone. A kernel that gets a FIN waits a moment (tens of
// milliseconds) before it acknowledges, in case its program closes too:
// when it does, its FIN carries the ACK; when the program is slower (a
// busy machine, or a FIN that came before the program was reading), the
// ACK goes first and the FIN after it, with the same numbers (timewait's
// and addrinuse's second close, 12 runs in 160 on a busy machine). Such
// an ACK is left out of both sides of the comparison (foldFINACKs).
type packetMatch int

const (
	// samePackets: each peer's packets are the same in every run, in
	// order (the same flags and bytes), as are its calls.
	samePackets packetMatch = iota
	// sameConnections: several connections are open at once, so a peer's
	// packets interleave differently from run to run, and so does whom the
	// trace can name as their sender (a server's packet before accept
	// returned is the listening socket's, after it the new socket's; the
	// SYN of one of two clients connecting at once shows its address).
	// What the kernels guarantee is each connection's packets each way,
	// in order: those are compared, whoever the trace named.
	sameConnections
	// sameSegments: sameConnections, less what timing decides. Whether a
	// kernel acknowledges data in a packet of its own or on its next
	// segment (and which side's FIN goes first) depends on when each
	// program gets to its next call: the pure ACKs after the handshake are
	// left out. A write made while the one before is still queued can go
	// in the same segment (websocket's pushes, once in 80 busy runs): the
	// bytes a side sends before the other side answers are compared as
	// one, by their count, however many segments carried them. And the
	// bytes themselves differ in every run (a reply tells the time, a
	// client masks its WebSocket frames with a random key): the lessons'
	// own tests check them, and their wire tables count them.
	sameSegments
	// noPackets: the lesson sends none (a Unix socket never reaches the
	// network); its page shows what socklab run --wire says instead.
	noPackets
)

// wireLessons says, for every lesson, how its page's packets are checked
// (see packetMatch): a lesson missing here fails the test.
var wireLessons = map[string]packetMatch{
	"basic":      samePackets,
	"echo":       samePackets,
	"stream":     samePackets,
	"halfclose":  samePackets,
	"concurrent": sameConnections,
	// Its clients connect at once, in any order, as concurrent's do.
	"nonblocking": samePackets,
	"epoll":       sameConnections,
	"backlog":     sameConnections,
	"refused":     samePackets,
	"addrinuse":   samePackets,
	"timewait":    samePackets,
	"reset":       samePackets,
	"timeout":     samePackets,
	"udp":         samePackets,
	"unix":        noPackets,
	"ipv6":        samePackets,
	"gonet":       samePackets,
	"http":        sameSegments,
	"websocket":   sameSegments,
}

// TestLessonWirePages keeps the packets block of every lesson's page, in
// both languages, what a run with --wire shows now, as TestLessonPages
// does for the transcript: each peer's calls, and the packets as far as
// wireLessons says they repeat. Capturing needs CAP_NET_RAW: the test
// skips without it, except in CI, which runs as root.
func TestLessonWirePages(t *testing.T) {
	for _, pl := range pageLangs {
		for _, l := range lessons.All() {
			t.Run(pl.prefix+l.Name, func(t *testing.T) {
				match, ok := wireLessons[l.Name]
				if !ok {
					t.Fatalf("wireLessons does not say how the %s lesson's packets are checked", l.Name)
				}
				path := pl.path(l)
				page, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				record := func() string { return recordWire(t, l, pl.lang) }
				if match == noPackets {
					record = func() string { return wireSays(t, l, pl.lang) }
				}
				if *update {
					out := replaceBlock(string(page), "packets", "```text\n"+record()+"```\n")
					if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				old := strings.TrimSuffix(strings.TrimPrefix(block(string(page), "packets"), "```text\n"), "```\n")
				if old == "" {
					t.Fatalf("%s has no packets block; run go test ./cmd/socklab -run TestLessonWirePages -update", path)
				}
				var diff string
				for range 3 {
					if diff = comparePackets(old, record(), l, match, pl.lang); diff == "" {
						return
					}
				}
				t.Errorf("%s: the packets are no longer what the lesson sends; run go test ./cmd/socklab -run TestLessonWirePages -update\n%s", path, diff)
			})
		}
	}
}

// comparePackets compares a page's packets block with a run's, as match
// says; it returns "" when they agree, else what differs.
func comparePackets(old, fresh string, l lessons.Lesson, match packetMatch, lang i18n.Lang) string {
	switch match {
	case noPackets:
		if old != fresh {
			return fmt.Sprintf("page: %q\nnow:  %q\n", old, fresh)
		}
		return ""
	case samePackets:
		return samePerPeer(foldFINACKs(old, lang), foldFINACKs(fresh, lang), func(string) func(string) (string, string) { return packetPeer }, false)
	}
	// The calls as TestLessonPages compares them; the packets by
	// connection.
	calls := func(string) func(string) (string, string) {
		return func(line string) (string, string) {
			if packetLine.MatchString(line) {
				return "", ""
			}
			return textPeer(line)
		}
	}
	segments := match == sameSegments
	return samePerPeer(old, fresh, calls, unordered(l)) + sameGroups(byConnection(old, lang, segments), byConnection(fresh, lang, segments))
}

// sameGroups compares two outputs' sequences, group by group, as
// samePerPeer does; it returns "" when they match, else what differs.
func sameGroups(page, now map[string][]string) string {
	var diff strings.Builder
	keys := slices.Sorted(func(yield func(string) bool) {
		for k := range page {
			yield(k)
		}
		for k := range now {
			if _, ok := page[k]; !ok {
				yield(k)
			}
		}
	})
	for _, k := range keys {
		if !slices.Equal(page[k], now[k]) {
			fmt.Fprintf(&diff, "%s:\n  page: %q\n  now:  %q\n", k, page[k], now[k])
		}
	}
	return diff.String()
}

// latePacket is the note of a packet that reached the capture late, on a
// busy machine: it says nothing of the lesson.
var latePacket = regexp.MustCompile(`  (?:` + regexp.QuoteMeta(i18n.EN.T("note.packet_late")) + `|` + regexp.QuoteMeta(i18n.ZH.T("note.packet_late")) + `)`)

// packetLine matches a packet's line: its time; its sender's peer, or
// else (the trace could not tell whose it is yet) its source address; its
// flags; to whom; and the rest.
var packetLine = regexp.MustCompile(`^ *([0-9.]+)ms  (\S*) +((?:SYN|FIN|RST|PSH|ACK|URG|ECE|CWR|UDP)[-A-Z]*) +(?:(\S+) )?→ (\S+)  (.*)$`)

// packetPeer is textPeer for a transcript with packets, which puts a
// peer's packets in a sequence of their own: its kernel sends them in
// order, but not in order with its program's calls (an ACK answers the
// other peer's write, whatever this one is doing).
func packetPeer(line string) (string, string) {
	line = latePacket.ReplaceAllString(line, "")
	m := packetLine.FindStringSubmatch(line)
	if m == nil {
		return textPeer(line)
	}
	_, norm := textPeer(line)
	peer := m[2]
	if peer == "" {
		peer = m[4]
	}
	return peer + " (its packets)", norm
}

// A packet is a packet's line of a transcript, read.
type packet struct {
	line     int     // its index among the transcript's lines
	at       float64 // its time, in milliseconds
	conn     string  // its connection and direction: "client-2 → server", "server → client-2"
	back     string  // the other direction's
	flags    string
	rest     string // what follows the flags' receiver: seq, ack, win, len, options, bytes
	seq, ack int    // -1 when absent (UDP)
	n        int    // bytes of data
}

var (
	// localAddress matches a getsockname line: its peer, and the address.
	localAddress = regexp.MustCompile(`^ *[0-9.]+ms  (\S+) .*getsockname\(\d+\) = 0  .* (\S+:\d+)$`)
	seqNumber    = regexp.MustCompile(`^seq (\d+)`)
	ackNumber    = regexp.MustCompile(`, ack (\d+)`)
	lenNumber    = regexp.MustCompile(`(?:^|, )len (\d+)`)
)

// readPackets reads a transcript's lines and its packets. A packet's
// connection is named by the connection's client: its peer when the
// trace named the sender or the receiver, else the peer whose getsockname
// gave the address it shows.
func readPackets(transcript string, lang i18n.Lang) (lines []string, packets []packet) {
	lines = strings.Split(transcript, "\n")
	owner := map[string]string{}
	for _, line := range lines {
		if m := localAddress.FindStringSubmatch(line); m != nil {
			owner[m[2]] = m[1]
		}
	}
	whose := func(peer string) string {
		if p, ok := owner[peer]; ok {
			return p
		}
		return peer
	}
	client, server := lang.T("peer.client"), lang.T("peer.server")
	isClient := func(peer string) bool { return peer == client || strings.HasPrefix(peer, client+"-") }
	field := func(re *regexp.Regexp, s string) int {
		m := re.FindStringSubmatch(s)
		if m == nil {
			return -1
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}
	for i, line := range lines {
		m := packetLine.FindStringSubmatch(latePacket.ReplaceAllString(line, ""))
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		from, to := m[2], whose(m[5])
		if from == "" {
			from = whose(m[4])
		}
		p := packet{line: i, at: at, flags: m[3], rest: m[6], seq: field(seqNumber, m[6]), ack: field(ackNumber, m[6]), n: max(field(lenNumber, m[6]), 0)}
		switch {
		case isClient(from):
			p.conn, p.back = from+" → "+server, server+" → "+from
		case isClient(to):
			p.conn, p.back = server+" → "+to, to+" → "+server
		default:
			p.conn, p.back = from+" → "+to, to+" → "+from
		}
		packets = append(packets, p)
	}
	return lines, packets
}

// pureACK says whether p is an ACK and nothing more: no data, no SYN, FIN
// or RST.
func (p packet) pureACK() bool { return p.flags == "ACK" && p.n == 0 }

// foldFINACKs returns the transcript without the ACKs of a FIN that the
// next FIN of their direction repeats (see packetMatch).
func foldFINACKs(transcript string, lang i18n.Lang) string {
	lines, packets := readPackets(transcript, lang)
	fin := map[string]int{} // each direction's FIN: its seq
	drop := map[int]bool{}
	for i, p := range packets {
		if strings.Contains(p.flags, "FIN") {
			fin[p.conn] = p.seq + p.n
		}
		s, ok := fin[p.back]
		if !ok || !p.pureACK() || p.ack != s+1 {
			continue
		}
		for _, q := range packets[i+1:] {
			if q.conn == p.conn {
				if strings.Contains(q.flags, "FIN") && q.seq == p.seq && q.ack == p.ack {
					drop[p.line] = true
				}
				break
			}
		}
	}
	var out []string
	for i, line := range lines {
		if !drop[i] {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// byConnection returns each connection's packets each way, in the order
// they were sent, normalised as textPeer normalises a line. With
// segments, it leaves out the pure ACKs after the handshake and the
// bytes, and counts the bytes a side sent before the other side's next
// SYN, data or FIN as one, however many segments carried them (see
// sameSegments).
func byConnection(transcript string, lang i18n.Lang, segments bool) map[string][]string {
	_, packets := readPackets(foldFINACKs(transcript, lang), lang)
	groups := map[string][]string{}
	if !segments {
		for _, p := range packets {
			groups[p.conn] = append(groups[p.conn], number.ReplaceAllString(p.flags+"  "+p.rest, "#"))
		}
		return groups
	}
	// In time order: a late packet's line comes after lines stamped
	// later, and whether the other side answered in between is a matter
	// of time.
	sort.SliceStable(packets, func(i, j int) bool { return packets[i].at < packets[j].at })
	sent := map[string]int{} // the bytes of each direction's last data, while the other side has not answered
	handshake := func(p packet) bool { return p.seq == 1 && p.ack == 1 }
	for _, p := range packets {
		if p.pureACK() && !handshake(p) {
			continue
		}
		if p.n > 0 {
			if n, ok := sent[p.conn]; ok {
				g := groups[p.conn]
				g[len(g)-1] = fmt.Sprintf("data, %d bytes", n+p.n)
			} else {
				groups[p.conn] = append(groups[p.conn], fmt.Sprintf("data, %d bytes", p.n))
			}
			sent[p.conn] += p.n
		}
		delete(sent, p.back)
		if p.n == 0 || strings.Contains(p.flags, "FIN") {
			// A FIN can ride on the last data segment.
			flags := strings.ReplaceAll(p.flags, "-PSH", "")
			if p.n > 0 {
				delete(sent, p.conn)
			}
			groups[p.conn] = append(groups[p.conn], number.ReplaceAllString(flags+"  "+quotedData.ReplaceAllString(p.rest, `"…"`), "#"))
		}
	}
	return groups
}

func recordWire(t *testing.T, l lessons.Lesson, lang i18n.Lang) string {
	t.Helper()
	var text bytes.Buffer
	tr := trace.New(trace.NewTextSink(&text, &trace.TextOptions{Lang: lang, Explain: lang != i18n.EN}))
	capture, err := wire.Open(tr)
	if errors.Is(err, wire.ErrNotPermitted) {
		skipWithoutCapture(t)
	}
	if err != nil {
		t.Fatal(err)
	}
	runErr := l.Run(context.Background(), tr, lessons.Options{})
	sum, err := capture.Close()
	if err := errors.Join(runErr, err); err != nil {
		if errors.Is(err, lessons.ErrNoTimeWait) {
			t.Skip(err) // the kernel's, not the lesson's
		}
		t.Fatal(err)
	}
	if sum.Dropped > 0 {
		t.Fatalf("%d packets dropped", sum.Dropped)
	}
	return text.String()
}

// wireSays runs socklab run LESSON --wire in lang, as a person would, and
// returns what it says besides the trace: for a lesson that sends no
// packets, the line saying so. The trace (in JSON, to be read here) must
// have no packet.
func wireSays(t *testing.T, l lessons.Lesson, lang i18n.Lang) string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"run", l.Name, "--wire", "--format=json", "--lang=" + string(lang)}, env{stdout: &stdout, stderr: &stderr})
	if stderr.String() == lang.T("line.error", lang.T("warn.wire_permission"))+"\n" {
		skipWithoutCapture(t)
	}
	if code != 0 {
		t.Fatalf("socklab run %s --wire: exit %d\n%s", l.Name, code, stderr.String())
	}
	for _, e := range jsonEvents(t, stdout.Bytes()) {
		if e.Op == trace.OpPacket {
			t.Errorf("socklab run %s --wire showed a packet: %+v", l.Name, e)
		}
	}
	return stderr.String()
}

// skipWithoutCapture skips a test that needs to capture packets, when it
// cannot: except in CI, which runs as root.
func skipWithoutCapture(t *testing.T) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal("CI runs as root, and can capture")
	}
	t.Skip("capturing needs CAP_NET_RAW: run as root (CI does)")
}

// TestPacketMatches: each packetMatch lets through what it says varies,
// and nothing else: a page and a run that differ in what the kernels
// guarantee differ in every match.
func TestPacketMatches(t *testing.T) {
	pkt := func(at, from, flags, to, rest string) string {
		return fmt.Sprintf("%11s  %-8s      %-11s → %s  %s", at+"ms", from, flags, to, rest)
	}
	page := []string{
		"    0.900ms  client   [ 5] connect     connect(3, 127.0.0.1:5000)  blocks: waiting for the handshake",
		pkt("1.000", "client", "SYN", "server", "seq 0, win 65495, len 0 [mss 65495, sackOK, wscale 10]"),
		pkt("1.100", "server", "SYN-ACK", "client", "seq 0, ack 1, win 65483, len 0 [mss 65495, sackOK, wscale 10]"),
		pkt("1.200", "client", "ACK", "server", "seq 1, ack 1, win 65536, len 0"),
		"    1.250ms  client   [ 7] connect     connect(3, 127.0.0.1:5000) = 0  (returned after 350µs)",
		"    1.260ms  client        getsockname getsockname(3) = 0  local address 127.0.0.1:40000",
		pkt("1.300", "client", "PSH-ACK", "server", `seq 1, ack 1, win 65536, len 5  "hello"`),
		pkt("1.400", "server", "ACK", "client", "seq 1, ack 6, win 65536, len 0"),
		pkt("1.500", "server", "PSH-ACK", "client", `seq 1, ack 6, win 65536, len 3  "hi!"`),
		pkt("1.600", "client", "ACK", "server", "seq 6, ack 4, win 65536, len 0"),
		pkt("1.700", "client", "FIN-ACK", "server", "seq 6, ack 4, win 65536, len 0"),
		pkt("1.800", "server", "FIN-ACK", "client", "seq 4, ack 7, win 65536, len 0"),
		pkt("1.900", "client", "ACK", "server", "seq 7, ack 5, win 65536, len 0"),
	}
	// with returns the page with line i replaced by lines (none: removed).
	with := func(i int, lines ...string) []string {
		return slices.Concat(page[:i], lines, page[i+1:])
	}
	renamed := slices.Clone(page)
	for _, i := range []int{8, 11} {
		renamed[i] = strings.Replace(renamed[i], "server  ", "server-1", 1)
	}
	// Which matches let a run through: samePackets, sameConnections,
	// sameSegments.
	tests := []struct {
		name string
		run  []string
		pass [3]bool
	}{
		{"the same", page, [3]bool{true, true, true}},
		{"the ACK of the FIN alone", with(11, pkt("1.800", "server", "ACK", "client", "seq 4, ack 7, win 65536, len 0"), pkt("1.850", "server", "FIN-ACK", "client", "seq 4, ack 7, win 65536, len 0")), [3]bool{true, true, true}},
		{"the server's new socket named", renamed, [3]bool{false, true, true}},
		{"the SYN shows its address", with(1, "    1.000ms                SYN         127.0.0.1:40000 → server  seq 0, win 65495, len 0 [mss 65495, sackOK, wscale 10]"), [3]bool{false, true, true}},
		{"the ACK on the reply", with(7), [3]bool{false, false, true}},
		{"one write in two segments", with(6, pkt("1.300", "client", "ACK", "server", `seq 1, ack 1, win 65536, len 3  "hel"`), pkt("1.310", "client", "PSH-ACK", "server", `seq 4, ack 1, win 65536, len 2  "lo"`)), [3]bool{false, false, true}},
		{"no SYN-ACK", with(2), [3]bool{false, false, false}},
		{"no handshake ACK", with(3), [3]bool{false, false, false}},
		{"RST, not FIN", with(10, pkt("1.700", "client", "RST-ACK", "server", "seq 6, ack 4, win 0, len 0")), [3]bool{false, false, false}},
		{"no FIN from the server", with(11), [3]bool{false, false, false}},
		{"a byte more", with(6, pkt("1.300", "client", "PSH-ACK", "server", `seq 1, ack 1, win 65536, len 6  "hello!"`)), [3]bool{false, false, false}},
		{"another write after the reply", slices.Insert(slices.Clone(page), 9, pkt("1.550", "client", "PSH-ACK", "server", `seq 6, ack 4, win 65536, len 3  "bye"`)), [3]bool{false, false, false}},
		{"a late packet", slices.Concat(page[:8], []string{page[9], page[8] + "  " + i18n.EN.T("note.packet_late")}, page[10:]), [3]bool{true, true, true}},
		{"the data the other way", with(6, pkt("1.300", "server", "PSH-ACK", "client", `seq 1, ack 1, win 65536, len 5  "hello"`)), [3]bool{false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, match := range []packetMatch{samePackets, sameConnections, sameSegments} {
				diff := comparePackets(strings.Join(page, "\n")+"\n", strings.Join(tt.run, "\n")+"\n", lessons.Lesson{}, match, i18n.EN)
				if got := diff == ""; got != tt.pass[i] {
					t.Errorf("match %d: passed %v, want %v\n%s", match, got, tt.pass[i], diff)
				}
			}
		})
	}
}
