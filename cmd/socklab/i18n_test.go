package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// keyLiteral matches a string that names a catalogue entry.
var keyLiteral = regexp.MustCompile(`^(arrow|op|wait|note|explain|steps|peer|step|usage|flag|line|lesson|err|hint|warn|prompt|why|what|signal|errno|interrupt)\.[A-Za-z0-9_.-]*$`)

// sourceStrings returns the string literals of the non-test Go files in dir.
func sourceStrings(t *testing.T, dir string) map[string]token.Position {
	t.Helper()
	fset := token.NewFileSet()
	files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
	found := map[string]token.Position{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					found[s] = fset.Position(lit.Pos())
				}
			}
			return true
		})
	}
	return found
}

// TestCatalogueKeysExist checks that every key the code names is in the
// catalogue (a key ending in "." is a prefix the code completes).
func TestCatalogueKeysExist(t *testing.T) {
	for _, dir := range []string{".", "../../trace"} {
		for s, pos := range sourceStrings(t, dir) {
			if !keyLiteral.MatchString(s) || strings.HasSuffix(s, ".") {
				continue
			}
			if !i18n.EN.Has(s) {
				t.Errorf("%v: key %q is not in the catalogue", pos, s)
			}
		}
	}
}

// prose matches two English words in a row: text for people.
var prose = regexp.MustCompile(`[A-Za-z]{2,} [A-Za-z]{2,}`)

// TestNoTextOutsideTheCatalogue checks that the command and the text sink
// hold no sentence of their own: everything they say comes from the
// catalogue. The exceptions are texts they read, not say.
func TestNoTextOutsideTheCatalogue(t *testing.T) {
	readNotSaid := map[string]bool{
		// The net and flag packages' errors, which the command rewords.
		"missing port in address":          true,
		"too many colons in address":       true,
		"flag provided but not defined: -": true,
		"flag needs an argument: -":        true,
		"invalid value ":                   true,
		"invalid boolean value ":           true,
		"line too long":                    true, // errLineTooLong, said through err.line_too_long
		" for flag -":                      true,
		"standard input closed (EOF)":      true, // errInputClosed, said through err.stdin_closed
	}
	for _, dir := range []string{"."} {
		for s, pos := range sourceStrings(t, dir) {
			if prose.MatchString(s) && !readNotSaid[s] && !strings.HasPrefix(s, "interrupted by ") {
				t.Errorf("%v: %q is text for people outside the catalogue", pos, s)
			}
		}
	}
	text := sourceStrings(t, "../../trace")
	for s, pos := range text {
		if filepath.Base(pos.Filename) == "text.go" && prose.MatchString(s) {
			t.Errorf("%v: %q is text for people outside the catalogue", pos, s)
		}
	}
}

// english finds English words left in Chinese output once what is meant to
// stay as it is has been taken out: quoted input, flags, commands, call
// names, errno names, states and addresses.
var (
	quoted  = regexp.MustCompile(`"[^"]*"|'[^']*'|\([^()]*\)`)
	kept    = regexp.MustCompile(`--?[a-z]+(=[A-Za-z|:.0-9]+)?|socklab|[A-Z][A-Z_0-9]+|\b[a-z0-9]+\(\)|\b(socket|bind|listen|accept4?|connect|read|write|close|shutdown|getsockname|run|server|client|list|help|steps|basic|backlog|concurrent|echo|lessons|auto|always|never|text|json|mermaid|en|zh)\b|\d+(ms|s)\b|Linux|macOS|Python|Go|UTF-8|Ctrl-C|Enter|root|telnet|nc|printf|hi|KiB`)
	english = regexp.MustCompile(`[A-Za-z]{3,}`)
)

func TestChineseSaysItInChinese(t *testing.T) {
	for _, tt := range runTests {
		if tt.wantStderr == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			run(context.Background(), tt.args, env{stdout: &stdout, stderr: &stderr, lang: i18n.ZH})
			rest := kept.ReplaceAllString(quoted.ReplaceAllString(stderr.String(), ""), "")
			if w := english.FindString(rest); w != "" {
				t.Errorf("English %q left in the Chinese line %q", w, stderr.String())
			}
		})
	}
}

func TestChineseTrace(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--explain", "--lang=zh", "--message=hi", "--reply=ok"}, env{stdout: &stdout, stderr: &stderr, lang: i18n.EN})
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		// The peer names and the calls are code; what surrounds them is not.
		rest := strings.NewReplacer("µs", "").Replace(line)
		rest = kept.ReplaceAllString(quoted.ReplaceAllString(rest, ""), "")
		if w := english.FindString(rest); w != "" {
			t.Errorf("English %q in the Chinese trace line %q", w, line)
		}
	}
	if !strings.Contains(stdout.String(), "accept 为这个客户端返回了一个新的套接字") {
		t.Errorf("no Chinese explanation in:\n%s", stdout.String())
	}
}

func TestHelpInChinese(t *testing.T) {
	for _, args := range [][]string{{"--help", "--lang=zh"}, {"help", "server"}, {"steps"}, {"list"}} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, env{stdout: &stdout, stderr: &stderr, lang: i18n.ZH}); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr.String())
		}
		if !strings.ContainsFunc(stdout.String(), func(r rune) bool { return r >= 0x4e00 && r <= 0x9fff }) {
			t.Errorf("%v: no Chinese in:\n%s", args, stdout.String())
		}
	}
}

// TestStepPromptSaysWhatTheCallWillDo: a step prompt's words follow what
// the call will really do: not wait on a non-blocking socket, send nothing
// when closing a socket with no connection.
func TestStepPromptSaysWhatTheCallWillDo(t *testing.T) {
	tests := []struct {
		e    trace.Event
		want string
	}{
		{trace.Event{Step: 6, Op: trace.OpAccept}, "step.6.what"},
		{trace.Event{Step: 6, Op: trace.OpAccept, Nonblock: true}, "step.6.what.nonblock"},
		{trace.Event{Step: 10, Op: trace.OpRead, Nonblock: true}, "step.10.what.nonblock"},
		{trace.Event{Step: 9, Op: trace.OpWrite, Nonblock: true}, "step.9.what"},
		{trace.Event{Step: 11, Op: trace.OpClose, Remote: "127.0.0.1:1234"}, "step.11.what"},
		{trace.Event{Step: 11, Op: trace.OpClose}, "step.11.what.unconnected"},
	}
	for _, tt := range tests {
		for _, l := range []i18n.Lang{i18n.EN, i18n.ZH} {
			if got := trace.StepKey(l, &tt.e, "what"); got != tt.want {
				t.Errorf("%s: trace.StepKey(%+v) = %s, want %s", l, tt.e, got, tt.want)
			}
		}
	}
}
