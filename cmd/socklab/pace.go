package main

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/socklab/socklab/internal/lineread"
	"github.com/socklab/socklab/trace"
)

// gate returns the conductor --step or --delay ask for, or nil: in the
// lesson's teaching order (script), or for one peer on its own (nil
// script) at each step. Prompts read from input.
func (c *command) gate(ctx context.Context, script []trace.Point, input *lineReader) (trace.Gate, error) {
	switch {
	case c.step && c.delay != 0:
		return nil, usage("hint.step_or_delay", "err.step_and_delay")
	case c.delay < 0:
		return nil, usage("hint.delay_positive", "err.delay_negative", c.delay)
	case c.delay > maxDelay:
		return nil, usage("hint.delay_max", "err.delay_max", c.delay, maxDelay)
	case c.step:
		l := c.env.lang
		return trace.NewConductor(ctx, script, func(ctx context.Context, e *trace.Event) error {
			line, err := input.AskOwnLine(ctx, trace.StepPrompt(l, e, c.env.termWidth))
			switch {
			case errors.Is(err, lineread.ErrInputClosed):
				return trace.ErrStopped
			case err != nil:
				return err
			case strings.EqualFold(strings.TrimSpace(line), "q"):
				return trace.ErrStopped
			}
			return nil
		}).Settle(settleTime), nil
	case c.delay > 0:
		return trace.NewConductor(ctx, script, trace.Delay(c.delay)).Settle(settleTime), nil
	}
	return nil, nil
}

// maxDelay bounds --delay: a pause longer than this before each step is a
// typo (1000000h), not a pace.
const maxDelay = 10 * time.Minute

// settleTime is how long the conductor lets the calls in flight be quiet
// before a step's prompt: a call about to return (accept, once the
// handshake is done) prints its line first, so that the class reads the
// steps in order (trace.Conductor.Settle).
const settleTime = 20 * time.Millisecond
