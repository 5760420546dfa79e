package trace

import (
	"strings"
	"testing"

	"github.com/socklab/socklab/trace/i18n"
)

// TestStepPromptNamesTheSourceLine: --step's prompt names the program's
// line when the tracer knows it.
func TestStepPromptNamesTheSourceLine(t *testing.T) {
	e := Event{Peer: "server", Role: Server, Op: OpAccept, Phase: Begin, Step: 6,
		Source: Source{File: "/home/a/server.py", Line: 13, Text: "conn, addr = s.accept()"}}
	got := StepPrompt(i18n.EN, &e, 0)
	if !strings.Contains(got, "[6] server server.py:13 conn, addr = s.accept() — ") {
		t.Errorf("got %q", got)
	}
	e.Source = Source{}
	if got := StepPrompt(i18n.EN, &e, 0); strings.Contains(got, "server.py") {
		t.Errorf("without a source: %q", got)
	}
	if got := (Source{File: "/a/b.py", Line: 3, Text: "s.close()"}).String(); got != "b.py:3  s.close()" {
		t.Errorf("Source.String() = %q", got)
	}
}
