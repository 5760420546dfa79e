package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/ptrace"
)

// expectTable prints how the traced programs compare with the lesson's
// story (socklab trace --expect LESSON): one row per expected call and per
// rule, ✓ or ✗, and for a ✗ a sentence on what it means. It reports
// whether everything required held.
func expectTable(e *env, lesson lessons.Lesson, events []trace.Event, leftOpen []ptrace.LeftOpen) bool {
	l := e.lang
	r := lesson.Expect.Check(events)
	// After a text trace, the table is the trace's last part; after JSON
	// or Mermaid it goes to standard error, not into the data.
	w := e.stdout
	if !e.textTrace {
		w = e.stderr
	}
	fmt.Fprintf(w, "\n%s\n", l.T("expect.header", lesson.Name))
	for _, c := range r.Calls {
		steps := make([]string, len(c.Steps))
		for i, s := range c.Steps {
			steps[i] = strconv.Itoa(s)
		}
		mark, seen, why := "✓", "", ""
		switch {
		case c.Seen != nil:
			seen = seenCall(c.Seen)
		case c.Optional:
			mark, why = "·", l.T(c.Missing)
		default:
			mark, why = "✗", l.T(c.Missing)
		}
		if c.Seen == nil && c.Op == trace.OpClose {
			if open := leftOpenBy(leftOpen, c.Peer, c.What == "listener"); open != "" {
				why += l.T("expect.closed_by_exit", open)
			}
		}
		row := fmt.Sprintf("  %s  %-6s %-8s %-28s %s", mark, strings.Join(steps, ","), trace.PeerLabel(l, c.Peer, ""), l.T("op."+string(c.Op)), seen)
		if why != "" {
			row += "  " + why
		}
		fmt.Fprintln(w, strings.TrimRight(safeLine(row), " "))
	}
	for _, c := range r.Checks {
		mark, why := "✓", ""
		switch {
		case !c.Checked && c.Optional:
			mark, why = "·", l.T("expect.unchecked")
		case !c.Checked:
			mark, why = "–", l.T("expect.unchecked")
		case !c.OK:
			mark, why = "✗", l.T(c.Broken)
		}
		row := fmt.Sprintf("  %s  %s", mark, c.Rule.Say(l))
		if why != "" {
			row += "  " + why
		}
		fmt.Fprintln(w, row)
	}
	ok := r.OK()
	if ok {
		fmt.Fprintln(w, l.T("expect.pass", lesson.Name))
	} else {
		fmt.Fprintln(w, l.T("expect.fail", lesson.Name))
	}
	return ok
}

// seenCall shows the call that matched: "accept4(3) = 4".
func seenCall(e *trace.Event) string {
	return e.Syscall + "(" + strconv.Itoa(e.FD) + ") = " + strconv.Itoa(e.Ret)
}

// leftOpenBy names the descriptor of peer's socket (a listener or a
// connection) that its process's exit closed, if any: "fd 3".
func leftOpenBy(open []ptrace.LeftOpen, peer string, listening bool) string {
	for _, o := range open {
		if o.Peer == peer && o.Listening == listening {
			return "fd " + strconv.Itoa(o.FD)
		}
	}
	return ""
}
