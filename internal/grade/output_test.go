package grade

import (
	"strings"
	"testing"

	"github.com/socklab/socklab/trace/i18n"
)

// The class table: a row per submission, its marks, and the first cause
// in the table's language.
func TestClassTable(t *testing.T) {
	results := []Submission{
		{Name: "alice", Passed: true, Status: "passed", Reason: "ok", Checks: []Check{{Kind: "step", Mark: "✓", Passed: true}, {Kind: "rule", Mark: "✓", Passed: true}}},
		{Name: "bob", Status: "failed", Reason: "connect_refused", Key: "verdict.refused", Args: []any{"127.0.0.1:1235", "127.0.0.1:1234"},
			Checks: []Check{{Kind: "step", Mark: "✗"}, {Kind: "rule", Mark: "–", Passed: true}}},
		{Name: "carol", Status: "failed", Reason: "bind_timewait", Key: "verdict.bind_timewait", Args: []any{"127.0.0.1:1234", float64(53)}},
	}
	for _, tt := range []struct {
		lang i18n.Lang
		want []string
	}{
		{i18n.EN, []string{"alice", "passed", "bob", "failed", "✗", "–", "connect refused: nothing listens on 127.0.0.1:1235 (the server listens on 127.0.0.1:1234)", "(53 s left)", "1 of 3 submissions"}},
		{i18n.ZH, []string{"通过", "未通过", "connect 被拒绝", "还剩 53 秒"}},
	} {
		var b strings.Builder
		WriteTable(&b, tt.lang, "basic", results)
		for _, w := range tt.want {
			if !strings.Contains(b.String(), w) {
				t.Errorf("%s: no %q in:\n%s", tt.lang, w, b.String())
			}
		}
	}
	if got := ExitCode(results); got != SomeFail {
		t.Errorf("exit %d, want %d", got, SomeFail)
	}
	if got := ExitCode(results[:1]); got != AllPassed {
		t.Errorf("exit %d, want %d", got, AllPassed)
	}
	if got := ExitCode(append(results, Submission{Status: "not_judged"})); got != Unjudged {
		t.Errorf("exit %d, want %d", got, Unjudged)
	}
}
