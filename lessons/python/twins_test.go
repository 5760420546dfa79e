package python

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/socklab/socklab/lessons"
)

// TestEveryTwinIsEmbedded: each twin's file is embedded, is named after a
// lesson, says how to run it, and every .py file here is a twin.
func TestEveryTwinIsEmbedded(t *testing.T) {
	for _, tw := range All() {
		if _, ok := lessons.Lookup(tw.Lesson); !ok {
			t.Errorf("%s: no lesson of that name", tw.File())
		}
		src := string(tw.Source())
		if !strings.Contains(src, "# Run it:  python3 "+tw.File()) {
			t.Errorf("%s does not say how to run it", tw.File())
		}
		if strings.Contains(src, ".send") && !strings.Contains(src, ".encode('utf-8')") {
			t.Errorf("%s sends, and never encodes what it sends", tw.File())
		}
	}
	names, err := filepath.Glob("*.py")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if _, ok := Lookup(strings.TrimSuffix(name, ".py")); !ok {
			t.Errorf("%s is not in twins", name)
		}
	}
}

func TestStepLines(t *testing.T) {
	tw, _ := Lookup("basic")
	lines := tw.StepLines()
	for step := 1; step <= 11; step++ {
		if len(lines[step]) == 0 {
			t.Errorf("no line of basic.py makes step %d", step)
		}
	}
	if got := lines[6]; len(got) != 1 || got[0].Text != "conn, address = s.accept()" || !slices.Equal(lines[8], got) {
		t.Errorf("step 6: got %v; step 8: %v, want conn, address = s.accept() for both", got, lines[8])
	}
	src := strings.Split(string(tw.Source()), "\n")
	for step, ls := range lines {
		for _, l := range ls {
			if !strings.Contains(src[l.N-1], l.Text) {
				t.Errorf("step %d: line %d is %q, not %q", step, l.N, src[l.N-1], l.Text)
			}
		}
	}
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	tw, _ := Lookup("echo")
	path, err := tw.Write(dir)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != string(tw.Source()) {
		t.Errorf("wrote %q (%v), want echo.py", b, err)
	}
	server, client, program := tw.Commands(path, "1234")
	if server != "python3 "+path+" server 1234" || client != "python3 "+path+" client 1234" || program != "" {
		t.Errorf("commands: %q %q %q", server, client, program)
	}
	if s, _, _ := tw.Commands("/a b/echo.py", "1"); s != "python3 '/a b/echo.py' server 1" {
		t.Errorf("a path with a space: %q", s)
	}
}
