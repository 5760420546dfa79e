//go:build linux || darwin

package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/socklab/socklab/lessons"
)

// TestErrorsAreDocumented checks that docs/errors.md quotes every message
// the tests see socklab print, exactly.
func TestErrorsAreDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	// The page shows messages in Markdown tables, where | is escaped.
	page := strings.ReplaceAll(string(doc), `\|`, "|")
	messages := []string{
		msgClosedEarly, msgReset, msgForeverBadClient, msgRefused, msgStdinEOF,
		msgConnectTimeout, msgAddrInUse, msgPrivileged,
		msgReadTimeout, msgClosedWithoutReply, msgStdinEmpty, msgLineTooLong,
		fmt.Sprintf(msgInterrupted, "Ctrl-C (SIGINT)"), fmt.Sprintf(msgInterrupted, "SIGTERM"),
		fmt.Sprintf(msgInterruptedData, "SIGTERM"), fmt.Sprintf(msgInterruptedNone, "SIGTERM"),
		msgReplyUndelivered,
	}
	for _, tt := range stuckTests {
		messages = append(messages, tt.want)
	}
	for _, tt := range runTests {
		if tt.wantStderr != "" {
			messages = append(messages, tt.wantStderr)
		}
	}
	for _, m := range messages {
		if m = strings.TrimSuffix(m, "\n"); !strings.Contains(page, m) {
			t.Errorf("docs/errors.md does not quote:\n%s", m)
		}
	}
}

// TestReadmeListsEveryLesson: the README's table says what socklab list
// says, lesson by lesson.
func TestReadmeListsEveryLesson(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lessons.All() {
		row := fmt.Sprintf("| [`%s`](docs/lessons/%[1]s.md) | %s |", l.Name, l.Summary)
		if !strings.Contains(string(readme), row) {
			t.Errorf("README.md has no row %q", row)
		}
	}
}
