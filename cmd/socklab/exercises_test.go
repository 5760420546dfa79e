package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// exercises are lesson pages' exercises played as the page writes them:
// the change applied to the lesson's source, in a copy (go build
// -overlay), the command run, and what the page says happens asserted.
var exercises = []struct {
	name         string
	file         string // the lesson's source the exercise changes
	from, to     string // the change, as the page writes it
	args         []string
	exit         int            // socklab's exit status
	stderr       *regexp.Regexp // the line that says what happened
	within       time.Duration  // the page's promise of how soon
	pageSays     string         // the page's own words for the change
	page, pageZH string
}{
	{
		name: "backlog 2: a listen queue of 1",
		file: "lessons/backlog.go",
		from: "listenAnnounced(server, announce, backlog)", to: "listenAnnounced(server, announce, 1)",
		args: []string{"run", "backlog", "--clients", "3", "--color=never"},
		exit: 1, stderr: regexp.MustCompile(`client-\d's connect waits on the kernel's SYN retries: the server's accept queue is full`),
		within:   15 * time.Second,
		pageSays: "`listenAnnounced(server, announce, 1)`",
		page:     "docs/lessons/backlog.md", pageZH: "docs/zh/lessons/backlog.md",
	},
}

func TestExercisesAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command once per exercise; skipped in -short mode")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range exercises {
		t.Run(ex.name, func(t *testing.T) {
			for _, page := range []string{ex.page, ex.pageZH} {
				text, err := os.ReadFile(filepath.Join(root, page))
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(text), ex.pageSays) {
					t.Fatalf("%s no longer says %s: the exercise here is not the page's", page, ex.pageSays)
				}
			}
			src, err := os.ReadFile(filepath.Join(root, ex.file))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(string(src), ex.from) != 1 {
				t.Fatalf("%s has not exactly one %q for the exercise to change", ex.file, ex.from)
			}
			dir := t.TempDir()
			changed := filepath.Join(dir, filepath.Base(ex.file))
			if err := os.WriteFile(changed, []byte(strings.Replace(string(src), ex.from, ex.to, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
			overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {filepath.Join(root, ex.file): changed}})
			overlayFile := filepath.Join(dir, "overlay.json")
			if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
				t.Fatal(err)
			}
			bin := filepath.Join(dir, "socklab")
			build := exec.Command("go", "build", "-overlay", overlayFile, "-o", bin, "./cmd/socklab")
			build.Dir = root
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build with the exercise's change: %v\n%s", err, out)
			}
			ctx, cancel := context.WithTimeout(context.Background(), ex.within+30*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, ex.args...)
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			start := time.Now()
			err = cmd.Run()
			took := time.Since(start)
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != ex.exit || !ex.stderr.MatchString(stderr.String()) {
				t.Errorf("socklab %s: exit %d, stderr %q; want exit %d and a line like %s", strings.Join(ex.args, " "), code, stderr.String(), ex.exit, ex.stderr)
			}
			if took > ex.within {
				t.Errorf("socklab %s took %v; the page promises %v", strings.Join(ex.args, " "), took.Round(time.Millisecond), ex.within)
			}
		})
	}
}

// TestOneQStopsEveryPeer: in a stepped lesson with several clients, one q
// stops the whole run — every peer, every socket closed and traced — and
// no other prompt follows it (it took five or six q's: each waiting
// peer's next call asked again).
func TestOneQStopsEveryPeer(t *testing.T) {
	for _, enters := range []int{0, 3, 7, 12} {
		input := strings.Repeat("\n", enters) + strings.Repeat("q\n", 10)
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), []string{"run", "concurrent", "--step", "--layout=lines", "--color=never"},
			env{stdin: strings.NewReader(input), stdout: &stdout, stderr: &stderr})
		prompts := strings.Count(stdout.String()+stderr.String(), "q: stop")
		if prompts != enters+1 {
			t.Errorf("after %d Enters and a q: %d prompts, want %d\n%s%s", enters, prompts, enters+1, stdout.String(), stderr.String())
		}
		if code != 0 || enters > 0 && !strings.Contains(stderr.String(), "every socket was closed") {
			t.Errorf("after %d Enters and a q: exit %d, %q; want 0 and every socket closed", enters, code, stderr.String())
		}
	}
}
