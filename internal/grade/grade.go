// Package grade is socklab grade: a class's submissions, one folder each,
// traced and judged against a lesson's story, each in a network namespace
// of its own, several at a time, each within a time limit; then a class
// table, and the results in the formats teachers' tools read (JSON, JUnit
// XML, GitHub Classroom's autograding result, Gradescope's results.json).
// docs/grading.md is its manual.
//
// Each submission is traced by socklab itself, run again as `socklab
// trace --isolate --expect LESSON` inside the submission's folder: a
// process of its own, since a tracer waits for every child of its
// process, and a run that hangs is killed with everything it started.
package grade

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/socklab/socklab/internal/shellwords"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
)

// Options are a grade run's.
type Options struct {
	Dir                      string // the folder of submissions
	Server                   string // the server's command template, run inside each submission
	Clients                  []string
	Lesson                   string        // the lesson whose story the programs must follow
	ServerInput, ClientInput string        // files, found from socklab's working directory
	Jobs                     int           // submissions at a time (the CPUs when 0)
	Limit                    time.Duration // each submission's time limit (20 s when 0)
	// Self is the socklab binary that traces each submission.
	Self string
}

// ExitCodes of socklab grade.
const (
	AllPassed = 0 // every submission followed the story
	SomeFail  = 1 // one at least did not (or did not finish)
	Usage     = 2 // bad input: one line says what
	Unjudged  = 3 // one at least could not be judged
)

type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ", ") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// Main runs `socklab grade [flags] DIR` and returns its exit status.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, l i18n.Lang) int {
	fs := flag.NewFlagSet("socklab grade", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var o Options
	var clients stringList
	var format, junit, classroom, gradescope, lang string
	fs.StringVar(&o.Server, "server", "", "")
	fs.Var(&clients, "client", "")
	fs.StringVar(&o.Lesson, "expect", "basic", "")
	fs.StringVar(&o.ServerInput, "server-input", "", "")
	fs.StringVar(&o.ClientInput, "client-input", "", "")
	fs.IntVar(&o.Jobs, "jobs", runtime.NumCPU(), "")
	fs.DurationVar(&o.Limit, "timeout", 20*time.Second, "")
	fs.StringVar(&format, "format", "table", "")
	fs.StringVar(&junit, "junit", "", "")
	fs.StringVar(&classroom, "classroom", "", "")
	fs.StringVar(&gradescope, "gradescope", "", "")
	fs.StringVar(&lang, "lang", "", "")
	bad := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "socklab grade: "+format+"\n", args...)
		return Usage
	}
	if err := fs.Parse(reorder(args)); errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, l.T("usage.grade"))
		return 0
	} else if err != nil {
		return bad("%s (socklab grade --help)", err)
	}
	if lang != "" {
		var ok bool
		if l, ok = i18n.Parse(lang); !ok {
			return bad("--lang=%s: en or zh", lang)
		}
	}
	o.Clients = clients
	switch {
	case fs.NArg() != 1:
		return bad("one folder of submissions, please: socklab grade --server 'CMD' --client 'CMD' DIR")
	case o.Server == "" || len(o.Clients) == 0:
		return bad("--server 'CMD' and --client 'CMD' are needed: they run inside each submission's folder")
	case format != "table" && format != "json":
		return bad("--format=%s: table or json", format)
	case o.Jobs < 1:
		return bad("--jobs=%d: at least 1", o.Jobs)
	case o.Limit <= 0:
		return bad("--timeout=%s: more than 0", o.Limit)
	}
	if x, ok := lessons.Lookup(o.Lesson); !ok || x.Expect == nil {
		return bad("--expect=%s: no lesson with a story to check (basic, ipv6)", o.Lesson)
	}
	for _, cmd := range append([]string{o.Server}, o.Clients...) {
		if _, err := shellwords.Command(cmd); err != nil {
			return bad("%s", shellwords.ErrorOf(err))
		}
	}
	for _, in := range []*string{&o.ServerInput, &o.ClientInput} {
		if *in == "" {
			continue
		}
		abs, err := filepath.Abs(*in)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			return bad("%s", err)
		}
		*in = abs
	}
	if runtime.GOOS != "linux" {
		fmt.Fprintln(stderr, l.T("err.grade_unsupported"))
		return Unjudged
	}
	o.Dir = fs.Arg(0)
	subs, err := Folders(o.Dir)
	if err != nil {
		return bad("%s", err)
	}
	if len(subs) == 0 {
		return bad("%s holds no submission folders", o.Dir)
	}
	if err := ptrace.CanIsolate(); err != nil {
		// Each run needs a network namespace of its own.
		fmt.Fprintln(stderr, "socklab: "+l.T("err.isolate_unsupported", err.Error()))
		return Unjudged
	}
	if o.Self, err = os.Executable(); err != nil {
		return bad("%s", err)
	}
	results := Run(ctx, o, subs, stderr)
	for i := range results {
		results[i].Sentence = results[i].Say(l) // in --lang's language
	}
	if err := writeFiles(results, junit, classroom, gradescope, o); err != nil {
		return bad("%s", err)
	}
	if format == "json" {
		WriteJSON(stdout, results)
	} else {
		WriteTable(stdout, l, o.Lesson, results)
	}
	return ExitCode(results)
}

// reorder puts the flags before DIR, wherever the teacher typed it.
func reorder(args []string) []string {
	var flags, rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			rest = append(rest, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "-"):
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && !isBool(a) {
				flags = append(flags, args[i+1])
				i++
			}
		default:
			rest = append(rest, a)
		}
	}
	return append(flags, rest...)
}

func isBool(flag string) bool {
	return slices.Contains([]string{"-h", "-help", "--help"}, flag)
}

// Folders lists the submissions of dir: its folders, by name, but hidden
// ones.
func Folders(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var subs []string
	for _, e := range entries {
		if e.IsDir() && !strings.HasPrefix(e.Name(), ".") {
			subs = append(subs, e.Name())
		}
	}
	return subs, nil
}

// Run grades each submission of o.Dir named in subs, o.Jobs at a time,
// and returns their results in subs' order. On a terminal, progress
// shows how many have ended.
func Run(ctx context.Context, o Options, subs []string, progress io.Writer) []Submission {
	if f, ok := progress.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		progress = io.Discard
	}
	results := make([]Submission, len(subs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range min(o.Jobs, len(subs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = One(ctx, o, subs[i])
				mu.Lock()
				done++
				fmt.Fprintf(progress, "\r[%d/%d] %s", done, len(subs), strings.Repeat(" ", 20))
				mu.Unlock()
			}
		}()
	}
	for i := range subs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	fmt.Fprintf(progress, "\r%s\r", strings.Repeat(" ", 40))
	return results
}

// One grades one submission: socklab trace --isolate --expect, run in
// its folder, within the time limit (after which the trace stops the
// programs with SIGINT and judges what happened; a trace that has not
// ended 5 s later is killed, and the kernel kills its programs with it).
func One(ctx context.Context, o Options, name string) Submission {
	start := time.Now()
	out, err := os.CreateTemp("", "socklab-grade-*.json")
	if err != nil {
		return notJudged(name, err.Error(), start)
	}
	out.Close()
	defer os.Remove(out.Name())
	args := []string{"trace", "--isolate", "--format=json", "--color=never", "--lang=en", "--expect", o.Lesson, "--server", o.Server}
	for _, c := range o.Clients {
		args = append(args, "--client", c)
	}
	if o.ServerInput != "" {
		args = append(args, "--server-input", o.ServerInput)
	}
	if o.ClientInput != "" {
		args = append(args, "--client-input", o.ClientInput)
	}
	limit := o.Limit
	if limit <= 0 {
		limit = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, limit+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, o.Self, args...)
	cmd.Dir = filepath.Join(o.Dir, name)
	cmd.Env = append(os.Environ(), outEnv+"="+out.Name(), limitEnv+"="+limit.String())
	var stderr bytes.Buffer
	cmd.Stderr = &tail{b: &stderr}
	ownGroup(cmd)
	runErr := cmd.Run()
	var s Submission
	b, err := os.ReadFile(out.Name())
	if (err != nil || len(b) == 0) && ctx.Err() != nil {
		// Killed: its programs did not end even on SIGINT.
		return Submission{Name: name, Status: "did_not_finish", Reason: "timeout", Key: "verdict.timeout", Args: []any{limit.String(), "-"},
			Sentence: i18n.EN.T("verdict.timeout", limit.String(), "-"), Seconds: time.Since(start).Round(time.Millisecond).Seconds()}
	}
	if err != nil || len(b) == 0 || json.Unmarshal(b, &s) != nil {
		why := lastLine(stderr.String())
		if why == "" && runErr != nil {
			why = runErr.Error()
		}
		return notJudged(name, why, start)
	}
	s.Name = name
	s.Seconds = time.Since(start).Round(time.Millisecond).Seconds()
	return s
}

func notJudged(name, why string, start time.Time) Submission {
	return Submission{Name: name, Status: "not_judged", Reason: "not_judged", Key: "verdict.not_started", Args: []any{why},
		Sentence: i18n.EN.T("verdict.not_started", why), Seconds: time.Since(start).Round(time.Millisecond).Seconds()}
}

// tail keeps the last 4 KiB written to it.
type tail struct{ b *bytes.Buffer }

func (t *tail) Write(p []byte) (int, error) {
	t.b.Write(p)
	if t.b.Len() > 4096 {
		rest := append([]byte(nil), t.b.Bytes()[t.b.Len()-4096:]...)
		t.b.Reset()
		t.b.Write(rest)
	}
	return len(p), nil
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimPrefix(lines[len(lines)-1], "socklab: ")
}

// ExitCode is socklab grade's status for results: 0 every submission
// passed, 1 one did not, 3 one could not be judged.
func ExitCode(results []Submission) int {
	code := AllPassed
	for _, s := range results {
		switch {
		case s.Status == "not_judged":
			return Unjudged
		case !s.Passed:
			code = SomeFail
		}
	}
	return code
}

func itoa(n int) string { return strconv.Itoa(n) }
