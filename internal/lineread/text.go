package lineread

import (
	"context"
	"errors"

	"github.com/socklab/socklab/trace/i18n"
)

// ReadText reads a text a peer sends (what names it: a catalogue key such
// as "what.message"), prompting with the catalogue's prompt in l. On a
// terminal an empty line asks again; from a pipe it is an error, as there
// is nobody to ask.
func (r *Reader) ReadText(ctx context.Context, l i18n.Lang, prompt, what string) (string, error) {
	for {
		line, err := r.ReadLine(ctx, l.T(prompt))
		switch {
		case errors.Is(err, ErrInputClosed):
			return "", &TextError{"err.stdin_closed", "hint.stdin_closed", what, nil}
		case errors.Is(err, ErrLineTooLong):
			return "", &TextError{"err.line_too_long", "hint.line_too_long", what, []any{MaxLine >> 10}}
		case err != nil:
			return "", err
		case line != "":
			return line, nil
		case !r.Terminal():
			return "", &TextError{"err.stdin_empty", "hint.stdin_closed", what, nil}
		}
	}
}

// A TextError says why no text could be read for what, and what to try
// (i18n.Sayer).
type TextError struct {
	Key, Hint, What string
	More            []any // the sentence's arguments after what
}

func (e *TextError) Error() string { return e.Say(i18n.EN) }

// Say says the error in l.
func (e *TextError) Say(l i18n.Lang) string {
	return l.T("line.hint", l.T(e.Key, append([]any{l.T(e.What)}, e.More...)...), l.T(e.Hint))
}
