package trace

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzPreview: for any bytes, the preview is valid UTF-8, holds no control
// character (so no escape sequence can reach a terminal), and gives the
// bytes back through strconv.Unquote.
func FuzzPreview(f *testing.F) {
	for _, seed := range []string{"", "hello", "你好", "\x1b[2J", "\x1b]0;x\a", "\xff\xfe", "\u202e", "a\\b\"c", "\x00\x7f\u0085"} {
		f.Add([]byte(seed), 0)
		f.Add([]byte(seed), 3)
	}
	f.Fuzz(func(t *testing.T, b []byte, limit int) {
		limit = limit % 100
		s, truncated := Preview(b, limit)
		if !utf8.ValidString(s) {
			t.Fatalf("Preview(%q) = %q is not valid UTF-8", b, s)
		}
		for _, r := range s {
			if unicode.IsControl(r) || r == utf8.RuneError && !strings.Contains(string(b), "\uFFFD") {
				t.Fatalf("Preview(%q) = %q holds %U", b, s, r)
			}
		}
		back, err := strconv.Unquote(`"` + s + `"`)
		if err != nil {
			t.Fatalf("Unquote(Preview(%q)) failed: %v", b, err)
		}
		if !truncated && back != string(b) {
			t.Fatalf("Preview(%q) gives back %q", b, back)
		}
		if truncated && !strings.HasPrefix(string(b), back) {
			t.Fatalf("Preview(%q, %d) = %q is not a prefix", b, limit, back)
		}
	})
}

// FuzzJSONRoundTrip: decoding what the JSON sink wrote gives back the
// event's fields, data included.
func FuzzJSONRoundTrip(f *testing.F) {
	f.Add(uint64(1), int64(5), "server", "read", "end", 10, 3, 14, []byte("你好, server"), "", "")
	f.Add(uint64(2), int64(0), "client-2", "connect", "end", 5, 7, -1, []byte(nil), "connection refused", "ECONNREFUSED")
	f.Add(uint64(3), int64(9), "x\x1b", "write", "begin", 9, 4, 0, []byte("\xff\x00"), "", "")
	f.Fuzz(func(t *testing.T, seq uint64, ns int64, peer, op, phase string, step, fd, ret int, data []byte, errText, errno string) {
		for _, s := range []string{peer, op, phase, errText, errno} {
			if !utf8.ValidString(s) {
				// Names and the kernel's words are text: JSON cannot carry
				// invalid UTF-8 in them (only data may hold any bytes, and
				// it is escaped).
				t.Skip()
			}
		}
		e := Event{Seq: seq, Time: time.Duration(ns), Peer: peer, Op: Op(op), Phase: Phase(phase), Step: step, Syscall: op,
			FD: fd, Ret: ret, N: len(data), Data: data, Errno: errno}
		if errText != "" {
			e.Err = errors.New(errText)
		}
		line, err := json.Marshal(ToJSON(&e, 0))
		if err != nil {
			t.Fatal(err)
		}
		var got JSONEvent
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		want := ToJSON(&e, 0)
		if got.Seq != want.Seq || got.TimeNS != want.TimeNS || got.Peer != want.Peer || got.Op != want.Op ||
			got.Phase != want.Phase || got.Step != want.Step || got.Errno != want.Errno || got.Err != want.Err {
			t.Fatalf("round trip changed the event:\n%s\ngot %+v", line, got)
		}
		if e.Data != nil {
			back, err := strconv.Unquote(`"` + *got.Data + `"`)
			if err != nil || back != string(data) {
				t.Fatalf("data %q came back as %q (%v)", data, back, err)
			}
		}
	})
}
