// Package report writes what socklab says after a run, beside the trace:
// how traced programs compare with a lesson's story (Expect), the traffic
// a lesson made (Traffic), lines safe for a terminal (SafeLine), and the
// padding and colour of socklab's own tables (Pad, Paint).
package report

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/fatih/color"

	"github.com/socklab/socklab/internal/verdict"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
)

// Expect writes to w how the traced programs compare with the lesson's
// story (socklab trace --expect LESSON): one row per expected call and per
// rule, ✓ or ✗, and for a ✗ a sentence on what it means. It reports
// whether everything required held. The first cause of a miss (v.Cause)
// comes first, in one sentence.
func Expect(w io.Writer, l i18n.Lang, lesson lessons.Lesson, v verdict.Verdict, leftOpen []ptrace.LeftOpen) bool {
	r := v.Report
	fmt.Fprintf(w, "\n%s\n", l.T("expect.header", lesson.Name))
	if !v.Passed && v.Cause.Key != "" {
		fmt.Fprintln(w, SafeLine("  → "+v.Cause.Say(l)))
	}
	if r == nil {
		fmt.Fprintln(w, l.T("verdict.unjudged"))
		return false
	}
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
		fmt.Fprintln(w, strings.TrimRight(SafeLine(row), " "))
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
	ok := v.Passed
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

// Traffic writes to w the traffic a run of lesson made
// (lessons.TrafficTable): the bytes its calls wrote, counted from its
// events, and, with --wire, the packets that carried them, as an aligned
// table in l: one row per kind of traffic, numbers right-aligned, widths
// counted in terminal columns so that Chinese stays aligned, and the
// lesson's note under it.
func Traffic(w io.Writer, l i18n.Lang, lesson string, t lessons.TrafficTable) error {
	head := []string{l.T("wire.col.what"), l.T("wire.col.messages"), l.T("wire.col.payload"), l.T("wire.col.wire"), l.T("wire.col.overhead"), l.T("wire.col.connections")}
	title := "wire.title"
	if t.Packets {
		head = append(head, l.T("wire.col.packets"), l.T("wire.col.packet_bytes"))
		title = "wire.title.packets"
	}
	rows := [][]string{head}
	for _, r := range t.Rows {
		overhead := "–"
		if r.Messages > 0 {
			overhead = strconv.Itoa(r.Overhead())
		}
		row := []string{l.T(r.What), strconv.Itoa(r.Messages), strconv.Itoa(r.Payload), strconv.Itoa(r.Written), overhead, strconv.Itoa(r.Connections)}
		if t.Packets {
			row = append(row, strconv.Itoa(r.Packets), strconv.Itoa(r.PacketBytes))
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], trace.Width(cell))
		}
	}
	var b strings.Builder
	b.WriteString("\n" + l.T(title) + "\n")
	for _, row := range rows {
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-trace.Width(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteString("\n")
	}
	if key := "wire.note." + lesson; l.Has(key) {
		b.WriteString(l.T(key) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SafeLine escapes whatever in an error line is not printable text: the
// line may quote what a user typed or a peer sent, and it goes to a
// terminal.
func SafeLine(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	safe, _ := trace.Preview([]byte(s), 0)
	return strings.ReplaceAll(safe, `\"`, `"`)
}

// Pad adds spaces to s up to width terminal columns.
func Pad(s string, width int) string {
	for w := trace.Width(s); w < width; w++ {
		s += " "
	}
	return s
}

// Paint colours s with c if on. Each Color is enabled on its own: the
// package-wide switch (NoColor) stays as fatih/color set it.
func Paint(on bool, c *color.Color, s string) string {
	if !on {
		return s
	}
	c.EnableColor()
	return c.Sprint(s)
}
