//go:build linux || darwin

package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
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
