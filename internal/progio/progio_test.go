package progio

import (
	"strings"
	"sync"
	"testing"
	"time"
)

type lines struct {
	mu sync.Mutex
	b  strings.Builder
	n  int // writes
}

func (l *lines) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	return l.b.Write(p)
}

// Each line comes whole, after the program's name, in one write; a
// prompt without its newline comes on a line of its own.
func TestPrefixer(t *testing.T) {
	var out lines
	p, err := New(&out, "server")
	if err != nil {
		t.Fatal(err)
	}
	p.File.WriteString("hello\nwor")
	p.File.WriteString("ld\nreply: ")
	time.Sleep(3 * partialWait)
	p.File.WriteString("tail")
	p.Wait(time.Second)
	want := "server| hello\nserver| world\nserver| reply: \nserver| tail\n"
	if got := out.b.String(); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if out.n != 4 {
		t.Errorf("%d writes, want 4 (one a line)", out.n)
	}
}
