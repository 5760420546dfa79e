package shellwords

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Command splits socklab trace's --server and --client as sh does: sh itself
// prints the words it splits the command into, and socklab's must match
// (our own splitter made `-w "%{http_code}\n"` into `200n`).
func TestCommandAsSh(t *testing.T) {
	for _, command := range []string{
		`curl -s -w "%{http_code}\n" http://127.0.0.1:8000/`,
		`python3 'a b' "c\"d" e\ f 'g\n' "h\\i" "" ''`,
		`printf '%s|' "tab	inside" x\y`,
		`echo "it's" 'say "hi"' \$HOME`,
	} {
		words, err := Command(command)
		if err != nil {
			t.Errorf("%s: %v", command, err)
			continue
		}
		// eval "set -- CMD": sh itself splits CMD into words.
		out, err := exec.Command("sh", "-c", `eval "set -- $1"; for w in "$@"; do printf '%s\0' "$w"; done`, "sh", command).Output()
		if err != nil {
			t.Fatal(err)
		}
		want := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
		if !slices.Equal(words, want) {
			t.Errorf("%s: got %q, want %q (sh's)", command, words, want)
		}
	}
	for _, command := range []string{"a | b", "X=1 prog", "prog > out", "ls *.go", "echo $HOME", "a; b", "a && b"} {
		if words, err := Command(command); err != nil || !slices.Equal(words, []string{"sh", "-c", command}) {
			t.Errorf("%s: got %q, %v; want it run by sh -c", command, words, err)
		}
	}
	for command, want := range map[string]string{"python3 'x": "unclosed '", `a "b`: `unclosed "`, "  ": "no command"} {
		if _, err := Command(command); err == nil || err.Error() != want {
			t.Errorf("%q: got %v, want %q", command, err, want)
		}
	}
}
