package grade

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/socklab/socklab/internal/verdict"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
)

// How a grade run and the socklab trace it starts for one submission talk:
// the grade run sets two variables in the trace's environment, and the
// trace, once it has judged the run, writes its Submission there.
const (
	outEnv   = "SOCKLAB_GRADE_OUT"   // the file the trace writes its Submission to
	limitEnv = "SOCKLAB_GRADE_LIMIT" // the run's time limit, as time.ParseDuration reads it
)

// A Submission is one submission's verdict, as --format=json writes it
// (docs/grading.md lists the fields; they are stable).
type Submission struct {
	Name   string `json:"name"`
	Passed bool   `json:"passed"`
	// Status is "passed", "failed", "did_not_finish" (the time limit ran
	// out) or "not_judged" (socklab could not judge: a program could not
	// start).
	Status string `json:"status"`
	// Reason is the first cause's stable code ("connect_refused",
	// "bind_timewait", "crashed", "timeout", "miss.client.close", …;
	// "ok" when it passed).
	Reason   string    `json:"reason"`
	Sentence string    `json:"sentence"`
	Checks   []Check   `json:"checks"`
	Programs []Program `json:"programs"`
	Seconds  float64   `json:"seconds"`
	// The first cause's catalogue key and arguments, to say it in
	// another language.
	Key  string `json:"key,omitempty"`
	Args []any  `json:"args,omitempty"`
}

// A Check is one step or rule of the story, and whether it held.
type Check struct {
	Name string `json:"name"`
	// Kind is "step" or "rule".
	Kind   string `json:"kind"`
	Passed bool   `json:"passed"`
	// Mark is what the class table shows: ✓ held, ✗ missed, · an
	// optional step not made, – a rule not checked (a call it needs is
	// missing).
	Mark     string `json:"mark"`
	Optional bool   `json:"optional,omitempty"`
	// Reason is the stable code of a miss ("miss.client.read",
	// "broken.write_read", "unchecked").
	Reason string `json:"reason,omitempty"`
}

// A Program is how one of the submission's programs ended.
type Program struct {
	Role    string `json:"role"` // "server", "client"
	Command string `json:"command"`
	Exit    int    `json:"exit"`             // its status, as a shell reports it (128+N for signal N)
	Signal  string `json:"signal,omitempty"` // the signal that ended it
}

// A TimeLimit is the time limit a grade run set for the trace of one
// submission: Ctx ends when D has passed (without a limit, Ctx is the
// context it was made from and D is 0).
type TimeLimit struct {
	Ctx  context.Context
	D    time.Duration
	stop context.CancelFunc
}

// NewLimit reads the limit a grade run set, if it set one.
func NewLimit(ctx context.Context) *TimeLimit {
	d, err := time.ParseDuration(os.Getenv(limitEnv))
	if err != nil || d <= 0 {
		return &TimeLimit{Ctx: ctx, stop: func() {}}
	}
	limited, cancel := context.WithTimeout(ctx, d)
	return &TimeLimit{Ctx: limited, D: d, stop: cancel}
}

// RanOut says whether the limit ran out.
func (t *TimeLimit) RanOut() bool { return t.D > 0 && errors.Is(t.Ctx.Err(), context.DeadlineExceeded) }

// Stop releases the limit's timer.
func (t *TimeLimit) Stop() { t.stop() }

// Save writes the judged run to the file a grade run asked for, if it
// asked. An error is not the trace's: the grade run reports a missing
// file.
func Save(v verdict.Verdict, exits []ptrace.Exit, timedOut bool) {
	name := os.Getenv(outEnv)
	if name == "" {
		return
	}
	s := FromVerdict(v, exits, timedOut)
	b, err := json.Marshal(s)
	if err == nil {
		os.WriteFile(name, b, 0o644)
	}
}

// FromVerdict makes a Submission (without its name) of a verdict.
func FromVerdict(v verdict.Verdict, exits []ptrace.Exit, timedOut bool) Submission {
	s := Submission{Passed: v.Passed, Reason: v.Cause.Code, Key: v.Cause.Key, Args: v.Cause.Args,
		Sentence: v.Cause.Say(i18n.EN)}
	switch {
	case v.Passed:
		s.Status = "passed"
	case timedOut:
		s.Status = "did_not_finish"
	case v.Status == verdict.Unjudged:
		s.Status = "not_judged"
	default:
		s.Status = "failed"
	}
	if r := v.Report; r != nil {
		for _, c := range r.Calls {
			ch := Check{Name: callName(c), Kind: "step", Passed: c.Seen != nil || c.Optional, Mark: "✓", Optional: c.Optional}
			switch {
			case c.Seen != nil:
			case c.Optional:
				ch.Mark, ch.Reason = "·", strings.TrimPrefix(c.Missing, "expect.")
			default:
				ch.Mark, ch.Reason = "✗", strings.TrimPrefix(c.Missing, "expect.")
			}
			s.Checks = append(s.Checks, ch)
		}
		for _, c := range r.Checks {
			ch := Check{Name: c.Rule.String(), Kind: "rule", Passed: !c.Checked || c.OK, Mark: "✓", Optional: c.Optional}
			switch {
			case !c.Checked:
				ch.Mark, ch.Reason = "–", "unchecked"
			case !c.OK:
				ch.Mark, ch.Reason, ch.Passed = "✗", strings.TrimPrefix(c.Broken, "expect."), false
			}
			s.Checks = append(s.Checks, ch)
		}
	}
	for i, x := range exits {
		p := Program{Role: "server", Command: strings.Join(x.Argv, " "), Exit: x.Code}
		if i > 0 {
			p.Role = "client"
		}
		if x.Signal != 0 {
			p.Signal = ptrace.SignalName(x.Signal)
		}
		s.Programs = append(s.Programs, p)
	}
	return s
}

// callName names a step of the story: "step 5,7 client connect".
func callName(c lessons.CallResult) string {
	var steps []string
	for _, n := range c.Steps {
		steps = append(steps, itoa(n))
	}
	name := "step " + strings.Join(steps, ",") + " " + c.Peer + " " + string(c.Op)
	if c.What != "" {
		name += " (" + c.What + ")"
	}
	return name
}

// Say is the submission's first cause in l.
func (s *Submission) Say(l i18n.Lang) string {
	if s.Key == "" {
		return s.Sentence
	}
	args := make([]any, len(s.Args))
	for i, a := range s.Args {
		// JSON made the numbers float64: the sentences count whole seconds.
		if f, ok := a.(float64); ok && f == float64(int(f)) {
			a = int(f)
		}
		args[i] = a
	}
	return l.T(s.Key, args...)
}
