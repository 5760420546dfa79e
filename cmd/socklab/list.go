package main

import (
	"fmt"

	"github.com/fatih/color"

	"github.com/socklab/socklab/internal/report"
	"github.com/socklab/socklab/lessons"
)

// runList runs `socklab list`.
func runList(args []string, e *env) error {
	c := newCommand(e, "list", "usage.synopsis.list")
	c.globalFlags()
	if _, err := c.parse(args, 0); err != nil {
		return ignoreHelp(err)
	}
	on, err := c.colorOn()
	if err != nil {
		return err
	}
	return listIn(e, on)
}

func list(e *env) error { return listIn(e, false) }

// listIn lists the lessons, their names in colour if on.
func listIn(e *env, on bool) error {
	width := 0
	for _, l := range lessons.All() {
		width = max(width, len(l.Name))
	}
	for _, l := range lessons.All() {
		// Padded before it is painted: escape codes take no columns.
		fmt.Fprintf(e.stdout, "%s  %s\n", report.Paint(on, nameColor, report.Pad(l.Name, width)), e.lang.T("lesson."+l.Name))
	}
	return nil
}

// The colours of list and steps: the trace's own, server cyan and client
// yellow, and lesson names bold.
var (
	nameColor   = color.New(color.Bold)
	serverColor = color.New(color.FgCyan)
	clientColor = color.New(color.FgYellow)
)
