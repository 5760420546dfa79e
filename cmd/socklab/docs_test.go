//go:build linux || darwin

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/socklab/socklab/lessons"
)

// msgWireNoCapability is what --wire says without CAP_NET_RAW.
const msgWireNoCapability = "socklab: the wire view needs CAP_NET_RAW: run as root, or build socklab and give the binary the capability (sudo setcap cap_net_raw+ep ./socklab; go run builds a fresh binary without it); going on without it\n"

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
		msgReplyUndelivered, msgWireNoCapability,
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
var lessonRow = regexp.MustCompile("(?m)^\\| \\[`([a-z0-9]+)`\\]\\(lessons/[a-z0-9]+\\.md\\) \\| ([^|]*[?？]) \\| [^|]+ \\|$")

// TestDocsIndexFollowsTeachingOrder: docs/README.md and docs/zh/README.md
// list every lesson, in socklab list's order, each with the question it
// answers; each teacher's guide points into the list in its language.
func TestDocsIndexFollowsTeachingOrder(t *testing.T) {
	var want []string
	for _, l := range lessons.All() {
		want = append(want, l.Name)
	}
	for _, index := range []struct{ path, guide, anchor string }{
		{"../../docs/README.md", "../../docs/teachers-guide.md", "README.md#lessons-in-teaching-order)"},
		{"../../docs/zh/README.md", "../../docs/zh/teachers-guide.md", "README.md#按教学顺序排列的课程)"},
	} {
		page, err := os.ReadFile(index.path)
		if err != nil {
			t.Fatal(err)
		}
		var listed []string
		for _, m := range lessonRow.FindAllStringSubmatch(string(page), -1) {
			listed = append(listed, m[1])
		}
		if !slices.Equal(listed, want) {
			t.Errorf("%s lists the lessons (each with a question) as\n%v\nwant, in teaching order,\n%v", index.path, listed, want)
		}
		guide, err := os.ReadFile(index.guide)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(guide), index.anchor) {
			t.Errorf("%s does not point to the lessons in teaching order in %s", index.guide, index.path)
		}
	}
}

// mdLink matches a Markdown link's target.
var mdLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinksResolve: every relative link in README.md and docs/ names
// a file or directory that exists, and a link to a line of a file (the
// lesson pages link to each function) a line the file has. The Chinese
// pages sit a directory deeper, which is where a link goes wrong.
func TestDocsLinksResolve(t *testing.T) {
	pages := []string{"../../README.md"}
	err := filepath.WalkDir("../../docs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			pages = append(pages, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range mdLink.FindAllStringSubmatch(string(text), -1) {
			target, fragment, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			path := filepath.Join(filepath.Dir(page), filepath.FromSlash(target))
			info, err := os.Stat(path)
			if err != nil {
				t.Errorf("%s links to %s, which does not exist", page, m[1])
				continue
			}
			var line int
			if _, err := fmt.Sscanf(fragment, "L%d", &line); err != nil || info.IsDir() {
				continue
			}
			if content, err := os.ReadFile(path); err != nil || line > strings.Count(string(content), "\n") {
				t.Errorf("%s links to %s: the file has no such line", page, m[1])
			}
		}
	}
}
