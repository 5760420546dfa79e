package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/fatih/color"

	"github.com/socklab/socklab/internal/report"
	pytwin "github.com/socklab/socklab/lessons/python"
	"github.com/socklab/socklab/trace"
)

// runSteps runs `socklab steps`: the lesson plan, in the chosen language,
// with each step's call in Python and in Go.
func runSteps(args []string, e *env) error {
	c := newCommand(e, "steps", "usage.synopsis.steps")
	c.globalFlags()
	if _, err := c.parse(args, 0); err != nil {
		return ignoreHelp(err)
	}
	on, err := c.colorOn()
	if err != nil {
		return err
	}
	l, w := e.lang, e.stdout
	fmt.Fprintf(w, "%s\n\n", l.T("steps.title"))
	for _, s := range trace.Steps {
		n := strconv.Itoa(s.Num)
		peer := l.T("peer.both")
		if s.Role != "" {
			peer = l.T("peer." + string(s.Role))
		}
		head := fmt.Sprintf("%3s  %s  %s", n, report.Pad(peer, 8), l.T("step."+n+".call"))
		fmt.Fprintln(w, report.Paint(on, map[trace.Role]*color.Color{trace.Server: serverColor, trace.Client: clientColor, "": nameColor}[s.Role], head))
		fmt.Fprintf(w, "     %s\n", l.T("step."+n+".what"))
		for _, code := range []struct{ key, text string }{
			{"steps.col.py", s.Python}, {"steps.col.go", s.Go}, {"steps.col.gonet", s.GoNet}, {"steps.col.twin", strings.Join(pytwin.StepSource(s.Num), "\n"+strings.Repeat(" ", 26))},
		} {
			fmt.Fprintf(w, "       %s %s\n", report.Pad(l.T(code.key)+":", 18), code.text)
		}
		fmt.Fprintln(w)
	}
	return nil
}
