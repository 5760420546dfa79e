package lessons

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/socklab/socklab/trace"
)

// A textRow is a message and a reply a user may give (--message, --reply).
type textRow struct {
	name           string
	message, reply string
}

// ascii is n bytes of ASCII letters and digits, starting at the from-th.
func ascii(n, from int) string {
	const abc = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b := make([]byte, n)
	for i := range b {
		b[i] = abc[(from+i)%len(abc)]
	}
	return string(b)
}

// chinese is the first n bytes of a Chinese text: three bytes a character
// in UTF-8, so it is cut inside a character unless n is a multiple of 3.
func chinese(n int) string {
	const text = "你好世界和平学习网络编程"
	return strings.Repeat(text, n/len(text)+1)[:n]
}

// textRows are the texts every lesson that carries them must carry, or
// refuse before making any socket: sizes from the smallest to one byte
// over the read buffer, in ASCII, Chinese, invalid UTF-8 and control bytes.
// An empty text means "the default" in Options (the lesson then sends
// DefaultMessage), so there is no 0-byte row: 1 byte is the smallest text
// a user can give. The websocket lesson, which frames its message, carries
// one of any size: there the 1025-byte rows must go through.
var textRows = []textRow{
	{"ascii/1 and 1", "m", "r"},
	{"ascii/reply shorter", ascii(100, 0), "ok"},
	{"ascii/equal sizes", ascii(64, 0), ascii(64, 26)},
	{"ascii/reply longer", "hi", ascii(600, 0)},
	{"ascii/1023 and 1023", ascii(ReadBuffer-1, 0), ascii(ReadBuffer-1, 26)},
	{"ascii/1024 and 1", ascii(ReadBuffer, 0), "k"},
	{"ascii/1 and 1024", "m", ascii(ReadBuffer, 26)},
	{"ascii/1024 and 1024", ascii(ReadBuffer, 0), ascii(ReadBuffer, 26)},
	{"ascii/1025 message", ascii(ReadBuffer+1, 0), "ok"},
	{"ascii/1025 reply", "hi", ascii(ReadBuffer+1, 0)},

	{"chinese/1 character each", "你", "好"},
	{"chinese/reply shorter", chinese(300), "好"},
	{"chinese/equal sizes", "你好世界", "世界你好"},
	{"chinese/reply longer", "你", chinese(600)},
	{"chinese/1023 on a character boundary", chinese(ReadBuffer - 1), chinese(ReadBuffer - 1)},
	{"chinese/1024 on a character boundary and 1", chinese(ReadBuffer-1) + "!", "好"},
	{"chinese/1024 cut inside a character and 1", chinese(ReadBuffer), "好"},
	{"chinese/1 and 1024 on a character boundary", "你", "!" + chinese(ReadBuffer-1)},
	{slowRowPlayed, chinese(ReadBuffer), chinese(ReadBuffer)},
	{"chinese/1025 message", chinese(ReadBuffer + 1), "好"},
	{"chinese/1025 reply", "你", chinese(ReadBuffer + 1)},

	{"invalid utf-8/2 and 2", "\xff\xfe", "\xfe\xff"},
	{"invalid utf-8/1 and 3", "\xff", "\xfe\xff\xfd"},
	{"invalid utf-8/1024 and 2", strings.Repeat("\xff\xfe", ReadBuffer/2), "\xff\xfe"},

	{"control/both", "\x1b[2J\x00\r\n", "\x1b[2J\x00\r\n"},
	{"control/1 and 2", "\x00", "\r\n"},
	{"control/1024 NULs and 1 ESC", string(make([]byte, ReadBuffer)), "\x1b"},

	{"mixed/ascii and chinese", "hello", "你好, hello"},
}

// A carrier says how a lesson carries the texts, so that the test can
// find them in its events.
type carrier struct {
	client, server string   // the two ends of the connection
	send, recv     trace.Op // the calls that carry the bytes
	// message and reply say that the client's sends are the message and
	// the server's the reply, byte for byte; otherwise the streams are
	// only checked to arrive as they were sent.
	message, reply bool
	// framed: the lesson sends the message in frames of a protocol, and
	// carries one of any size (no *OptionError).
	framed bool
	// waitsAfterFullReply: the client, after a read that fills its
	// buffer, waits a second for more (moreWait, timelimits.go), so a reply of
	// exactly ReadBuffer bytes costs a second.
	waitsAfterFullReply bool
	// check, if set, checks what the streams cannot show.
	check func(t *testing.T, l Lesson, events []trace.Event, opts Options)
}

// carriers has a row for every lesson that uses a message or a reply.
var carriers = map[string]carrier{
	"basic":     {client: "client", server: "server", send: trace.OpWrite, recv: trace.OpRead, message: true, reply: true, waitsAfterFullReply: true},
	"ipv6":      {client: "client", server: "server", send: trace.OpWrite, recv: trace.OpRead, message: true, reply: true, waitsAfterFullReply: true},
	"halfclose": {client: "client", server: "server", send: trace.OpWrite, recv: trace.OpRead, message: true, reply: true},
	"unix":      {client: "client", server: "server", send: trace.OpWrite, recv: trace.OpRead, message: true, reply: true},
	"gonet":     {client: "client", server: "server", send: trace.OpWrite, recv: trace.OpRead, message: true, reply: true},
	// Each reads what came once poll says it is there: the whole text.
	"nonblocking": {client: "client", server: "server", send: trace.OpWrite, recv: trace.OpRead, message: true, reply: true},
	// The client sends its two datagrams whatever the options; the server
	// answers with the reply.
	"udp": {client: "client", server: "server", send: trace.OpSendto, recv: trace.OpRecvfrom, reply: true},
	// The message goes in a masked WebSocket frame, after the HTTP
	// upgrade: the streams hold it only encoded; the wire table counts it.
	"websocket": {client: "client-1", server: "server-1", send: trace.OpWrite, recv: trace.OpRead, framed: true, check: checkWebSocketMessage},
}

// checkWebSocketMessage: the client sent the message as one WebSocket
// message of its size. (The server itself fails the lesson if what it read
// is not the message.)
func checkWebSocketMessage(t *testing.T, l Lesson, events []trace.Event, opts Options) {
	t.Helper()
	table, err := l.Traffic(events)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range table.Rows {
		if r.What == "wire.ws.client" {
			if r.Messages != 1 || r.Payload != len(opts.message()) {
				t.Errorf("client → server: %d messages, %d payload bytes; want 1, %d", r.Messages, r.Payload, len(opts.message()))
			}
			return
		}
	}
	t.Errorf("no client → server row in\n%s", table)
}

// fullTextTable lets the first run of TestEveryLessonWithAnyTexts in a
// test process (-count=N runs it N times) play the slow rows too.
var fullTextTable sync.Once

// slowRowPlayed is the one row, of those whose reply fills the buffer,
// that the lessons whose client then waits a second play (see
// TestEveryLessonWithAnyTexts): both texts fill the buffer, and both end
// inside a character.
const slowRowPlayed = "chinese/1024 and 1024 cut inside a character"

// textTableRuns counts the runs of TestEveryLessonWithAnyTexts in this
// process. The first plays every row; later ones (go test -count=200) play
// one row in textRotation, a different one each run, so that every row is
// still played many times under the race detector while the suite, run
// hundreds of times, stays within its time.
var textTableRuns atomic.Int64

const textRotation = 8

// TestEveryLessonWithAnyTexts plays every lesson that uses a message or a
// reply with each row of textRows (passing only the options the lesson
// uses): each run must end (runLesson's deadline), return nil, and carry
// every byte: what one end sent is what the other received, concatenated
// over as many calls as it took. A text over the read buffer must be
// refused with an *OptionError before any socket is made.
//
// Every run takes milliseconds, but in the lessons whose client, after a
// read that fills its buffer, waits a second for more
// (carrier.waitsAfterFullReply): there a reply of exactly ReadBuffer bytes
// costs a second. Of those rows, these lessons play only slowRowPlayed
// (the others take the same path with other bytes), only in the first run
// in a process and not with -short, and in parallel with each other, in
// the group "reply fills the buffer".
func TestEveryLessonWithAnyTexts(t *testing.T) {
	slowToo := false
	if !testing.Short() {
		fullTextTable.Do(func() { slowToo = true })
	}
	runNumber := textTableRuns.Add(1) - 1
	type run struct {
		name string
		l    Lesson
		c    carrier
		opts Options
	}
	var slow []run
	for _, l := range All() {
		usesMessage, usesReply := slices.Contains(l.Uses, "message"), slices.Contains(l.Uses, "reply")
		if !usesMessage && !usesReply {
			continue
		}
		c, ok := carriers[l.Name]
		if !ok {
			t.Errorf("lesson %s uses %q: add its row to carriers", l.Name, l.Uses)
			continue
		}
		t.Run(l.Name, func(t *testing.T) {
			seen := map[Options]bool{} // rows that differ only in an option the lesson does not use run once
			for i, row := range textRows {
				if runNumber > 0 && int64(i)%textRotation != runNumber%textRotation {
					continue // played in another run of this process (textTableRuns)
				}
				var opts Options
				if usesMessage {
					opts.Message = row.message
				}
				if usesReply {
					opts.Reply = row.reply
				}
				if seen[opts] {
					continue
				}
				seen[opts] = true
				t.Run(row.name, func(t *testing.T) {
					switch {
					case !c.waitsAfterFullReply || len(opts.Reply) != ReadBuffer:
						playWithTexts(t, l, c, opts, true)
					case row.name != slowRowPlayed:
						t.Skipf("a reply that fills the buffer costs a second here; the same path is played by %q", slowRowPlayed)
					case !slowToo:
						t.Skip("a reply that fills the buffer costs a second here: played by the first run in a process, without -short")
					default:
						slow = append(slow, run{l.Name + "/" + row.name, l, c, opts})
						t.Skip(`played in the group "reply fills the buffer", with the others that take a second`)
					}
				})
			}
		})
	}
	if len(slow) == 0 {
		return
	}
	// In parallel, where counting the process's descriptors around each
	// run would count the others': they are counted around the group.
	before := openFDs(t)
	t.Run("reply fills the buffer", func(t *testing.T) {
		for _, r := range slow {
			t.Run(r.name, func(t *testing.T) {
				t.Parallel()
				playWithTexts(t, r.l, r.c, r.opts, false)
			})
		}
	})
	if leaked := before.Leaked(openFDs(t)); leaked != nil {
		t.Errorf("descriptors left open by the runs whose reply fills the buffer: %v", leaked)
	}
}

// playWithTexts plays one row and checks it; countFDs as playLesson.
func playWithTexts(t *testing.T, l Lesson, c carrier, opts Options, countFDs bool) {
	var tooLong *OptionError
	switch {
	case c.framed:
	case len(opts.Message) > ReadBuffer:
		tooLong = &OptionError{Option: "message", Bytes: len(opts.Message)}
	case len(opts.Reply) > ReadBuffer:
		tooLong = &OptionError{Option: "reply", Bytes: len(opts.Reply)}
	}
	events, err := playLessonCounting(t, l.Name, opts, countFDs)
	if tooLong != nil {
		var got *OptionError
		if !errors.As(err, &got) || *got != *tooLong {
			t.Errorf("lesson %s (%s): got %v, want %v", l.Name, describeOptions(opts), err, tooLong)
		}
		if len(events) != 0 {
			t.Errorf("lesson %s (%s): %d events, want none: a text too long must stop the lesson before any socket\n%s",
				l.Name, describeOptions(opts), len(events), lastEvents(events, shownEvents))
		}
		return
	}
	if err != nil {
		t.Fatalf("lesson %s (%s): %v\nthe last %d events of each peer:\n%s", l.Name, describeOptions(opts), err, shownEvents, lastEvents(events, shownEvents))
	}
	stream := func(from, to, text string, carried bool) {
		t.Helper()
		sent, received := streamOf(events, from, c.send), streamOf(events, to, c.recv)
		if !bytes.Equal(sent, received) {
			t.Errorf("lesson %s (%s): %s sent %s; %s received %s",
				l.Name, describeOptions(opts), from, differs(sent, received), to, differs(received, sent))
		}
		if carried && string(sent) != text {
			t.Errorf("lesson %s (%s): %s sent %s; want the text, %s",
				l.Name, describeOptions(opts), from, differs(sent, []byte(text)), differs([]byte(text), sent))
		}
	}
	stream(c.client, c.server, opts.message(), c.message)
	stream(c.server, c.client, opts.reply(), c.reply)
	if c.check != nil {
		c.check(t, l, events, opts)
	}
}

// differs describes b for a comparison with other: its size, and where it
// first differs from other, if it does.
func differs(b, other []byte) string {
	short := func(b []byte) string {
		if len(b) > 24 {
			return fmt.Sprintf("%q…", b[:24])
		}
		return fmt.Sprintf("%q", b)
	}
	i := 0
	for i < len(b) && i < len(other) && b[i] == other[i] {
		i++
	}
	if i == len(b) && i == len(other) {
		return fmt.Sprintf("%d bytes %s", len(b), short(b))
	}
	return fmt.Sprintf("%d bytes %s, from byte %d on %s", len(b), short(b), i, short(b[i:]))
}
