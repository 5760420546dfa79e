package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/wire"
)

// wireLessons are the lessons whose pages show their packets: those whose
// packets are the same in every run (the same flags from the same peers,
// in the same order; 15 of 15 runs of each), so that a page can be
// checked against a run. backlog's and timewait's vary with timing.
var wireLessons = []string{"basic", "echo", "halfclose", "refused", "reset"}

// TestLessonWirePages keeps the packets block of those pages, in both
// languages, what a run with --wire shows now, peer by peer, as
// TestLessonPages does for the transcript. Capturing needs CAP_NET_RAW:
// the test skips without it, except in CI, which runs as root.
func TestLessonWirePages(t *testing.T) {
	for _, pl := range pageLangs {
		for _, name := range wireLessons {
			t.Run(pl.prefix+name, func(t *testing.T) {
				l, ok := lessons.Lookup(name)
				if !ok {
					t.Fatalf("no lesson %s", name)
				}
				path := pl.path(l)
				page, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if *update {
					out := replaceBlock(string(page), "packets", "```text\n"+recordWire(t, l, pl.lang)+"```\n")
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
					if diff = samePerPeer(old, recordWire(t, l, pl.lang), func(string) func(string) (string, string) { return packetPeer }, false); diff == "" {
						return
					}
				}
				t.Errorf("%s: the packets are no longer what the lesson sends; run go test ./cmd/socklab -run TestLessonWirePages -update\n%s", path, diff)
			})
		}
	}
}

// latePacket is the note of a packet that reached the capture late, on a
// busy machine: it says nothing of the lesson.
var latePacket = regexp.MustCompile(`  (?:` + regexp.QuoteMeta(i18n.EN.T("note.packet_late")) + `|` + regexp.QuoteMeta(i18n.ZH.T("note.packet_late")) + `)`)

// packetFlags matches a packet's line after its peer: its flags.
var packetFlags = regexp.MustCompile(`^\S+\s+(?:SYN|FIN|RST|PSH|ACK|URG|ECE|CWR|UDP)[-A-Z]*\s`)

// packetPeer is textPeer for a transcript with packets, which puts a
// peer's packets in a sequence of their own: its kernel sends them in
// order, but not in order with its program's calls (an ACK answers the
// other peer's write, whatever this one is doing).
func packetPeer(line string) (string, string) {
	peer, norm := textPeer(latePacket.ReplaceAllString(line, ""))
	if peer != "" && packetFlags.MatchString(strings.TrimSpace(norm)) {
		peer += " (its packets)"
	}
	return peer, norm
}

// recordWire runs the lesson with the wire view into a text transcript in
// lang, explained in Chinese as the Chinese pages are.
func recordWire(t *testing.T, l lessons.Lesson, lang i18n.Lang) string {
	t.Helper()
	var text bytes.Buffer
	tr := trace.New(trace.NewTextSink(&text, &trace.TextOptions{Lang: lang, Explain: lang != i18n.EN}))
	capture, err := wire.Open(tr)
	if errors.Is(err, wire.ErrNotPermitted) {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root, and can capture")
		}
		t.Skip("capturing needs CAP_NET_RAW: run as root (CI does)")
	}
	if err != nil {
		t.Fatal(err)
	}
	runErr := l.Run(context.Background(), tr, lessons.Options{})
	sum, err := capture.Close()
	if err := errors.Join(runErr, err); err != nil {
		t.Fatal(err)
	}
	if sum.Dropped > 0 {
		t.Fatalf("%d packets dropped", sum.Dropped)
	}
	return text.String()
}
