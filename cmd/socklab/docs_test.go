//go:build linux || darwin

package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
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

// lessonRow matches a row of the lesson table in docs/README.md: the
// lesson, the question it answers, what it shows.
var lessonRow = regexp.MustCompile("(?m)^\\| \\[`([a-z0-9]+)`\\]\\(lessons/[a-z0-9]+\\.md\\) \\| ([^|]*\\?) \\| [^|]+ \\|$")

// TestDocsIndexFollowsTeachingOrder: docs/README.md lists every lesson,
// in socklab list's order, each with the question it answers; both
// teacher's guides point into that list.
func TestDocsIndexFollowsTeachingOrder(t *testing.T) {
	index, err := os.ReadFile("../../docs/README.md")
	if err != nil {
		t.Fatal(err)
	}
	var listed, want []string
	for _, m := range lessonRow.FindAllStringSubmatch(string(index), -1) {
		listed = append(listed, m[1])
	}
	for _, l := range lessons.All() {
		want = append(want, l.Name)
	}
	if !slices.Equal(listed, want) {
		t.Errorf("docs/README.md lists the lessons (each with a question) as\n%v\nwant, in teaching order,\n%v", listed, want)
	}
	for _, guide := range []string{"../../docs/teachers-guide.md", "../../docs/zh/teachers-guide.md"} {
		page, err := os.ReadFile(guide)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(page), "README.md#lessons-in-teaching-order)") {
			t.Errorf("%s does not point to the lessons in teaching order in docs/README.md", guide)
		}
	}
}
