package trace

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/socklab/socklab/trace/i18n"
)

// StepPrompt is what a person is asked before e's step is taken
// (socklab --step): the step's number, its peer, its call and what it
// does, in l; for a traced program whose line is known (Event.Source),
// that line instead of the step's generic call. When width (the terminal's) is more than 20 columns, the
// prompt is wrapped to it here, between words (or Chinese characters),
// not by the terminal in the middle of one.
func StepPrompt(l i18n.Lang, e *Event, width int) string {
	call := l.T(StepKey(l, e, "call"))
	if src := e.Source; src.File != "" {
		// The program's own line says the call better: server.py:13 conn, addr = s.accept().
		call = filepath.Base(src.File) + ":" + strconv.Itoa(src.Line) + " " + src.Text
	}
	prompt := l.T("prompt.step", e.Step, PeerLabel(l, e.Peer, e.Role), call, l.T(StepKey(l, e, "what")))
	if width > 20 {
		prompt = strings.Join(Wrap(strings.TrimRight(prompt, " "), width-1), "\n")
	}
	return prompt
}

// StepKey returns the catalogue key of part ("call" or "what") of the
// step e is about to take: the step's own words, or those for a
// non-blocking socket (it will not wait) or for a close with no connection
// (it sends nothing).
func StepKey(l i18n.Lang, e *Event, part string) string {
	key := "step." + strconv.Itoa(e.Step) + "." + part
	switch {
	case e.Nonblock && l.Has(key+".nonblock"):
		return key + ".nonblock"
	case e.Op == OpClose && e.Remote == "" && l.Has(key+".unconnected"):
		return key + ".unconnected"
	}
	return key
}

// Delay is a Pace that lets each step go after d (socklab --delay), or
// stops the run when ctx is done first.
func Delay(d time.Duration) Pace {
	return func(ctx context.Context, _ *Event) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
}
