// Package python holds the Python twins of socklab's lessons: one file a
// lesson, named after it (basic.py, echo.py, …), that a student runs with
// `python3 FILE` alone, written as the class's Python tutorial writes its
// programs (standard library only, a comment numbering each step as the
// lesson plan does, .encode('utf-8') before sending and .decode('utf-8')
// after receiving).
//
// A twin of a lesson about two programs takes its role as its first
// argument: `python3 NAME.py server [PORT]` listens on PORT (none, or 0: a
// port the kernel chooses) and prints "listening on HOST:PORT";
// `python3 NAME.py client PORT` connects to it; with no argument the twin
// runs both, as two processes. The unix twin takes a path instead of a
// port. A twin of a lesson about one program (refused, addrinuse,
// timewait) is one program: `python3 NAME.py`.
//
// The files are embedded: `socklab run NAME --python` writes them to a
// temporary directory and traces them there.
package python

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

//go:embed *.py
var files embed.FS

// A Twin is a lesson's Python twin.
type Twin struct {
	Lesson string
	// OneProgram is set for a twin that is one program (no server and
	// client roles): socklab traces it with --all, since its sockets
	// change roles as the lesson goes.
	OneProgram bool
	// Path is set for a twin that takes a path, not a port (unix).
	Path bool
}

// File is the twin's file name.
func (t Twin) File() string { return t.Lesson + ".py" }

// twins are the lessons a Python program can show, in teaching order.
var twins = []Twin{
	{Lesson: "basic"},
	{Lesson: "echo"},
	{Lesson: "stream"},
	{Lesson: "halfclose"},
	{Lesson: "concurrent"},
	{Lesson: "nonblocking"},
	{Lesson: "epoll"},
	{Lesson: "backlog"},
	{Lesson: "refused", OneProgram: true},
	{Lesson: "addrinuse", OneProgram: true},
	{Lesson: "timewait", OneProgram: true},
	{Lesson: "reset"},
	{Lesson: "timeout"},
	{Lesson: "udp"},
	{Lesson: "unix", Path: true},
	{Lesson: "ipv6"},
}

// All returns every twin, in teaching order.
func All() []Twin { return append([]Twin(nil), twins...) }

// Lookup returns the twin of the lesson called name.
func Lookup(name string) (Twin, bool) {
	for _, t := range twins {
		if t.Lesson == name {
			return t, true
		}
	}
	return Twin{}, false
}

// Source returns the twin's file.
func (t Twin) Source() []byte {
	b, err := files.ReadFile(t.File())
	if err != nil {
		panic(err) // every twin is embedded: TestEveryTwinIsEmbedded
	}
	return b
}

// Write writes the twin's file into dir and returns its path.
func (t Twin) Write(dir string) (string, error) {
	path := filepath.Join(dir, t.File())
	if err := os.WriteFile(path, t.Source(), 0o644); err != nil {
		return "", fmt.Errorf("python twin of %s: %w", t.Lesson, err)
	}
	return path, nil
}

// Commands returns the commands that run the twin at path (written by
// Write), as socklab trace takes them: a server and a client, for the
// address addr (a port, or for the unix twin a path); or, for a twin that
// is one program, only program.
func (t Twin) Commands(path, addr string) (server, client, program string) {
	if t.OneProgram {
		return "", "", "python3 " + quote(path)
	}
	return "python3 " + quote(path) + " server " + quote(addr), "python3 " + quote(path) + " client " + quote(addr), ""
}

// quote quotes s for a command line split as sh splits it.
func quote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '/' || r == '.' || r == '-' || r == '_' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// A Line is a line of a twin's file.
type Line struct {
	N    int    // its number, from 1
	Text string // the code, without its comment and indentation
}

// stepComment is a step's comment: "# 6 accept waits, 8 accepted".
var stepComment = regexp.MustCompile(`#\s*(\d+)\b(.*)$`)
var alsoStep = regexp.MustCompile(`,\s*(\d+)\b`)

// StepLines returns, for each step of the lesson plan, the lines of the
// twin whose comment numbers it ("# 6 accept waits, 8 accepted" numbers 6
// and 8), in the file's order.
func (t Twin) StepLines() map[int][]Line {
	out := map[int][]Line{}
	sc := bufio.NewScanner(bytes.NewReader(t.Source()))
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		i := strings.Index(text, "#")
		if i <= 0 || strings.TrimSpace(text[:i]) == "" {
			continue // a comment of its own, not a step's
		}
		m := stepComment.FindStringSubmatch(text[i:])
		if m == nil {
			continue
		}
		line := Line{N: n, Text: strings.TrimSpace(text[:i])}
		step, _ := strconv.Atoi(m[1])
		out[step] = append(out[step], line)
		for _, more := range alsoStep.FindAllStringSubmatch(m[2], -1) {
			s, _ := strconv.Atoi(more[1])
			out[s] = append(out[s], line)
		}
	}
	return out
}
