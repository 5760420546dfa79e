// Package lineread reads the lines a person types for socklab (a peer's
// message, a step's Enter) from standard input or the terminal, giving up
// when the run is cancelled.
package lineread

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// ErrInputClosed is returned when standard input ends before a line.
var ErrInputClosed = errors.New("standard input closed (EOF)")

// ErrLineTooLong is returned for a line longer than MaxLine.
var ErrLineTooLong = errors.New("line too long")

// MaxLine bounds a line of standard input: /dev/zero is not a message.
const MaxLine = 64 << 10

// A Reader reads the texts a peer sends when no flag gave them: from a
// prompt on a terminal (like Python's input()), else one line per text from
// whatever is piped in.
type Reader struct {
	in       *bufio.Reader
	prompt   io.Writer // where prompts go: the terminal (standard error)
	terminal bool      // standard input is a terminal: show prompts
	lines    chan lineResult
	pending  bool // a read is under way (one the context gave up on)
}

type lineResult struct {
	line string
	err  error
}

// New returns a Reader of in whose prompts go to prompt; terminal says
// that in is a terminal (prompts are shown, Enter echoes).
func New(in io.Reader, prompt io.Writer, terminal bool) *Reader {
	return &Reader{in: bufio.NewReader(in), prompt: prompt, terminal: terminal}
}

// ReadLine returns the next line without its line ending. It gives up when
// ctx is done (Ctrl-C): the read itself goes on in the background until the
// process exits, since a blocked read of standard input cannot be woken.
func (r *Reader) ReadLine(ctx context.Context, prompt string) (string, error) {
	return r.read(ctx, prompt, r.terminal)
}

// Ask is ReadLine that shows its prompt even when standard input is not a
// terminal: step prompts say, in any transcript, where each pause was.
func (r *Reader) Ask(ctx context.Context, prompt string) (string, error) {
	return r.read(ctx, prompt, true)
}

// AskOwnLine is Ask with the prompt on a line of its own: while a step
// prompt waits, the other peer's calls may still end and print their
// lines, which must not be glued to the prompt.
func (r *Reader) AskOwnLine(ctx context.Context, prompt string) (string, error) {
	fmt.Fprintln(r.prompt, strings.TrimRight(prompt, " "))
	return r.read(ctx, "", false)
}

func (r *Reader) read(ctx context.Context, prompt string, show bool) (string, error) {
	if show {
		fmt.Fprint(r.prompt, prompt)
	}
	if r.lines == nil {
		r.lines = make(chan lineResult, 1)
	}
	if !r.pending {
		r.pending = true
		go func() {
			line, err := readBoundedLine(r.in)
			if err == io.EOF && line != "" {
				err = nil // a last line without a newline still counts
			}
			r.lines <- lineResult{strings.TrimRight(line, "\r\n"), err}
		}()
	}
	select {
	case res := <-r.lines:
		r.pending = false
		if show && !r.terminal {
			fmt.Fprintln(r.prompt) // the Enter a terminal would have echoed
		}
		if res.err == io.EOF {
			if show && r.terminal {
				fmt.Fprintln(r.prompt) // Ctrl-D echoes no newline
			}
			return "", ErrInputClosed
		}
		return res.line, res.err
	case <-ctx.Done():
		if show {
			fmt.Fprintln(r.prompt)
		}
		return "", context.Cause(ctx)
	}
}

// readBoundedLine reads up to a newline, or fails once the line is longer
// than MaxLine, without keeping more than that in memory.
// Terminal reports whether the Reader reads a terminal.
func (r *Reader) Terminal() bool { return r.terminal }

func readBoundedLine(in *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := in.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > MaxLine {
			return "", ErrLineTooLong
		}
		if err != bufio.ErrBufferFull {
			return string(line), err
		}
	}
}
