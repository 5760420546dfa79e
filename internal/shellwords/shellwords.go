// Package shellwords splits a command line given as one string (socklab
// trace's --server and --client) into its words exactly as sh would, with
// mvdan.cc/sh's POSIX parser: a maintained parser, not a splitter of our
// own (ours turned -w "%{http_code}\n" into %{http_code}n).
package shellwords

import (
	"errors"
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"

	"github.com/socklab/socklab/trace/i18n"
)

// Command splits a --server or --client command into words exactly
// as sh would for a simple command: mvdan.cc/sh's POSIX parser reads it
// and its expansion, with nothing to expand but quotes, makes the words ('-w "%{http_code}\n"' keeps its
// backslash, as sh does). A command that needs the shell itself (a pipe,
// a redirection, a variable, a glob, VAR=value, &&, several commands)
// runs under sh -c; the trace follows sh into the program.
func Command(command string) ([]string, error) {
	words, err := Split(command)
	if errors.Is(err, ErrNeedsShell) {
		return []string{"sh", "-c", command}, nil
	}
	return words, err
}

// ErrNeedsShell: the command is more than words (see Command).
var ErrNeedsShell = errors.New("needs a shell")

// Split splits a simple command into its words as sh does, or
// returns ErrNeedsShell.
func Split(command string) ([]string, error) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangPOSIX)).Parse(strings.NewReader(command), "")
	if err != nil {
		return nil, ErrorOf(err)
	}
	if len(f.Stmts) == 0 {
		return nil, &Error{key: "words.empty"}
	}
	st := f.Stmts[0]
	call, ok := st.Cmd.(*syntax.CallExpr)
	if len(f.Stmts) > 1 || !ok || len(call.Assigns) > 0 || len(st.Redirs) > 0 || st.Background || st.Negated || st.Coprocess {
		return nil, ErrNeedsShell
	}
	words := make([]string, 0, len(call.Args))
	for _, w := range call.Args {
		if !plain(w) {
			return nil, ErrNeedsShell
		}
		fields, err := expand.Fields(nil, w)
		if err != nil {
			return nil, &Error{key: "words.shell", arg: err.Error()}
		}
		words = append(words, fields...)
	}
	return words, nil
}

// plain reports whether w is only text and quotes: nothing the shell
// would expand (a variable, a command's output, a glob, a ~).
func plain(w *syntax.Word) bool {
	for i, part := range w.Parts {
		switch part := part.(type) {
		case *syntax.Lit:
			if strings.ContainsAny(part.Value, "*?[") || i == 0 && strings.HasPrefix(part.Value, "~") {
				return false
			}
		case *syntax.SglQuoted:
			if part.Dollar {
				return false
			}
		case *syntax.DblQuoted:
			if part.Dollar {
				return false
			}
			for _, inner := range part.Parts {
				if _, ok := inner.(*syntax.Lit); !ok {
					return false
				}
			}
		default:
			return false
		}
	}
	return true
}

// ErrorOf says why the parser could not read a command.
func ErrorOf(err error) error {
	var perr syntax.ParseError
	if errors.As(err, &perr) {
		// An unclosed quote: the input ended early, the parser names the
		// quote last ("… quote `'`").
		quote := strings.Trim(perr.Text[strings.LastIndexByte(perr.Text, ' ')+1:], "`")
		if perr.Incomplete && (quote == "'" || quote == `"`) {
			return &Error{key: "words.unclosed", arg: quote}
		}
		return &Error{key: "words.shell", arg: perr.Text}
	}
	var qerr syntax.QuoteError
	if errors.As(err, &qerr) {
		return &Error{key: "words.shell", arg: qerr.Message}
	}
	return &Error{key: "words.shell", arg: err.Error()}
}

// An Error is why a command could not be split into words: a catalogue
// key (words.unclosed, words.shell, words.empty) and its argument, if
// any.
type Error struct {
	key string
	arg any
}

func (e *Error) Error() string { return e.Say(i18n.EN) }

// Say says the error in l (i18n.Sayer).
func (e *Error) Say(l i18n.Lang) string {
	if e.arg == nil {
		return l.T(e.key)
	}
	return l.T(e.key, e.arg)
}
