package trace

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"unicode"

	"github.com/socklab/socklab/trace/i18n"
)

// TestTextSinkNeverSplitsAToken renders the same run at the widths a
// class uses (60 columns: one of two side-by-side tmux panes; 80, 100,
// 120) in both languages, and checks that every line fits and that
// wrapping only moved words to the next line: the words of each wrapped
// line, put back together, are those of the same line unwrapped. An
// address, a state or a preview is never cut in two.
func TestTextSinkNeverSplitsAToken(t *testing.T) {
	events := append(sampleEvents(), waitingRun()...)
	for _, width := range []int{60, 80, 100, 120} {
		for _, lang := range []i18n.Lang{i18n.EN, i18n.ZH} {
			t.Run(fmt.Sprint(width, lang), func(t *testing.T) {
				var wrapped, whole bytes.Buffer
				ws := NewTextSink(&wrapped, &TextOptions{Lang: lang, Width: width})
				// The same lines unwrapped, with the preview the narrow
				// terminal gets.
				ls := NewTextSink(&whole, &TextOptions{Lang: lang, Preview: ws.ann.opts.Preview})
				for i, e := range events {
					e.Seq = uint64(i + 1)
					if err := ws.Handle(e); err != nil {
						t.Fatal(err)
					}
					if err := ls.Handle(e); err != nil {
						t.Fatal(err)
					}
				}
				var groups []string
				for _, line := range strings.Split(strings.TrimSuffix(wrapped.String(), "\n"), "\n") {
					if w := Width(line); w > width && len(strings.Fields(line)) > 1 {
						t.Errorf("a line of %d columns, more than %d: %q", w, width, line)
					}
					if strings.HasPrefix(line, "      ") && len(groups) > 0 { // a wrapped line's next line
						groups[len(groups)-1] += "\n" + line
					} else {
						groups = append(groups, line)
					}
				}
				lines := strings.Split(strings.TrimSuffix(whole.String(), "\n"), "\n")
				if len(groups) != len(lines) {
					t.Fatalf("%d lines wrapped, %d unwrapped:\n%s", len(groups), len(lines), wrapped.String())
				}
				for i := range lines {
					if got, want := words(groups[i]), words(lines[i]); got != want {
						t.Errorf("line %d wrapped as\n%s\nwords %q, want %q", i+1, groups[i], got, want)
					}
				}
			})
		}
	}
}

// words is s's words, one space apart, with the spaces that wrapping may
// add or take beside a Chinese character (which breaks anywhere) left out.
func words(s string) string {
	f := strings.Fields(s)
	var b strings.Builder
	for i, w := range f {
		if i > 0 {
			prev, _ := lastRune(f[i-1])
			first := []rune(w)[0]
			if !wide(prev) && !wide(first) && !unicode.Is(unicode.Han, first) {
				b.WriteByte(' ')
			}
		}
		b.WriteString(w)
	}
	return b.String()
}

func lastRune(s string) (rune, bool) {
	r := []rune(s)
	if len(r) == 0 {
		return 0, false
	}
	return r[len(r)-1], true
}
