package ptrace

import (
	"os"
	"slices"
	"testing"

	"github.com/socklab/socklab/trace"
)

func TestParseAnnouncement(t *testing.T) {
	tests := []struct {
		in   string
		want mailbox
		ok   bool
	}{
		{"M 7f12ab00 256", mailbox{0x7f12ab00, 256}, true},
		{"M 0 256", mailbox{}, false},
		{"M zz 256", mailbox{}, false},
		{"X 7f12ab00 256", mailbox{}, false},
		{"M 7f12ab00 100000", mailbox{}, false},
		{"hello", mailbox{}, false},
	}
	for _, tt := range tests {
		if got, ok := parseAnnouncement([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("parseAnnouncement(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseSource(t *testing.T) {
	tests := []struct {
		in   string
		want trace.Source
		ok   bool
	}{
		{"server.py\x0012\x00conn, address = s.accept()\x00\x00junk", trace.Source{File: "server.py", Line: 12, Text: "conn, address = s.accept()"}, true},
		{"\x00stale\x0099\x00old\x00", trace.Source{}, false}, // cleared: the first byte is 0
		{"server.py\x00x\x00y\x00", trace.Source{}, false},
		{"server.py\x0012", trace.Source{}, false}, // cut short
	}
	for _, tt := range tests {
		if got, ok := parseSource([]byte(tt.in)); got != tt.want || ok != tt.ok {
			t.Errorf("parseSource(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestWithPythonPath(t *testing.T) {
	got := withPythonPath([]string{"A=1", "PYTHONPATH=/x", "B=2"}, "/s")
	if want := []string{"A=1", "B=2", "PYTHONPATH=/s" + string(os.PathListSeparator) + "/x"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := withPythonPath([]string{"A=1"}, "/s"); !slices.Equal(got, []string{"A=1", "PYTHONPATH=/s"}) {
		t.Errorf("no PYTHONPATH before: got %q", got)
	}
}
