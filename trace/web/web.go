// Package web serves a run to a browser page, live, as a sequence diagram:
// the events of the run go to the page as the JSON objects of
// --format=json --explain (one schema, docs/trace-format.md) over a
// WebSocket, and the page's Next is the pace of a trace.Conductor: the run
// is real, and a call waits, really, until a person lets it begin.
//
// The package knows nothing of the lessons: its Runner, given by the
// command, plays one run with the sink and the pace the server hands it.
// The protocol, the page and the safety rules (a token in the URL, the
// WebSocket's Origin checked) are in docs/web.md.
package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// ProtocolVersion is the "v" of /api/info: it changes when a message
// changes meaning or goes away.
const ProtocolVersion = 1

//go:embed static
var static embed.FS

// A Runner plays one run of lesson, tracing every call into sink, and
// letting each call the lesson's script gates begin only when pace returns
// nil (a trace.Conductor's pace). It returns when the run is over: when
// ctx is done, the run stops as --step's q stops it, closing its sockets.
type Runner func(ctx context.Context, lesson string, sink trace.Sink, pace trace.Pace) error

// A Lesson is one entry of the page's lesson picker.
type Lesson struct {
	Name  string               `json:"name"`
	Title map[i18n.Lang]string `json:"title"`
}

// Options configures a Server.
type Options struct {
	// Lessons are the ones the page offers, in the order it lists them;
	// Lesson is the one it starts on.
	Lessons []Lesson
	Lesson  string
	// Lang is the page's language when it opens.
	Lang i18n.Lang
	// Run plays a run; nil in a replay.
	Run Runner
	// Replay holds the lines of a saved trace (see ReadReplay): the page
	// plays them, and runs nothing.
	Replay []json.RawMessage
	// Wire says the runs show their packets (--wire).
	Wire bool
	// Describe says why a run failed, in a language: the one line the
	// command would print.
	Describe func(err error, l i18n.Lang) string
	// Grace is how long a run goes on once the last page has gone, for a
	// page to come back (a reload); then the run is stopped. 0 means
	// DefaultGrace.
	Grace time.Duration
}

// DefaultGrace is how long a run outlives its last page: a reload takes
// less.
const DefaultGrace = 3 * time.Second

// A Server serves the page, its WebSocket and the runs the page asks for.
// It is an http.Handler; Close stops its run and disconnects its pages.
type Server struct {
	opts  Options
	token string
	files http.Handler

	mu      sync.Mutex
	pages   map[*page]bool
	run     *run // the run in progress, or nil
	runs    int  // runs begun so far: each message names its run
	history [][]byte
	grace   *time.Timer // stops a run no page watches
	closed  bool
	wg      sync.WaitGroup // the runs' goroutines
}

// New returns a server with a fresh random token.
func New(opts Options) (*Server, error) {
	if opts.Lang == "" {
		opts.Lang = i18n.EN
	}
	if opts.Grace <= 0 {
		opts.Grace = DefaultGrace
	}
	if opts.Describe == nil {
		opts.Describe = func(err error, _ i18n.Lang) string { return err.Error() }
	}
	if opts.Run == nil && opts.Replay == nil {
		return nil, errors.New("web: nothing to serve: no runner and no replay")
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("web: token: %w", err)
	}
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return nil, err
	}
	return &Server{opts: opts, token: hex.EncodeToString(b[:]), files: http.FileServerFS(sub), pages: map[*page]bool{}}, nil
}

// Token is the secret a page's URL carries.
func (s *Server) Token() string { return s.token }

// URL is the page's address on a server listening at host:port.
func (s *Server) URL(hostport string) string {
	return "http://" + hostport + "/?token=" + s.token
}

func (s *Server) mode() string {
	if s.opts.Replay != nil {
		return "replay"
	}
	return "live"
}

// ServeHTTP serves the page (/), its files (/static/), /api/info and /ws.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // the token stays in this page
	h.Set("Content-Security-Policy", "frame-ancestors 'none'")
	switch {
	case strings.HasPrefix(r.URL.Path, "/static/"):
		// The page's code is no secret: it needs no token.
		h.Set("Cache-Control", "no-cache")
		http.StripPrefix("/static", s.files).ServeHTTP(w, r)
	case !s.allowed(r):
		http.Error(w, s.readerLang(r).T("web.forbidden"), http.StatusForbidden)
	case r.URL.Path == "/":
		h.Set("Cache-Control", "no-store")
		page, err := static.ReadFile("static/index.html")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	case r.URL.Path == "/api/info":
		s.serveInfo(w)
	case r.URL.Path == "/ws":
		s.serveSocket(w, r)
	default:
		http.NotFound(w, r)
	}
}

// allowed says whether r carries the token.
func (s *Server) allowed(r *http.Request) bool {
	got := r.URL.Query().Get("token")
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

// info is the answer of /api/info.
type info struct {
	V         int                             `json:"v"`
	Mode      string                          `json:"mode"`
	Lang      i18n.Lang                       `json:"lang"`
	Lesson    string                          `json:"lesson"`
	Wire      bool                            `json:"wire"`
	Lessons   []Lesson                        `json:"lessons"`
	Catalogue map[i18n.Lang]map[string]string `json:"catalogue"`
}

// pageKeys are the prefixes of the catalogue keys the page shows.
var pageKeys = []string{"step.", "explain.", "peer.", "web.", "lesson.", "note."}

func (s *Server) serveInfo(w http.ResponseWriter) {
	in := info{V: ProtocolVersion, Mode: s.mode(), Lang: s.opts.Lang, Lesson: s.opts.Lesson, Wire: s.opts.Wire, Lessons: s.opts.Lessons, Catalogue: map[i18n.Lang]map[string]string{}}
	for _, l := range i18n.Langs {
		keys := map[string]string{}
		for k, v := range i18n.Catalogue(l) {
			for _, prefix := range pageKeys {
				if strings.HasPrefix(k, prefix) {
					keys[k] = v
				}
			}
		}
		in.Catalogue[l] = keys
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(in)
}

// Close stops the run in progress (its sockets closed, its closes traced),
// waits for it, and disconnects every page.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.run != nil {
		s.run.stop(trace.ErrStopped)
	}
	if s.grace != nil {
		s.grace.Stop()
	}
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	pages := make([]*page, 0, len(s.pages))
	for p := range s.pages {
		pages = append(pages, p)
	}
	s.mu.Unlock()
	// The run's end is queued for every page: each gets it before its
	// goodbye.
	for _, p := range pages {
		p.finish()
	}
	return nil
}

// ReadReplay reads a trace saved with --format=json: one JSON object a
// line, each a line of the schema (a "v" socklab writes, a "seq", an
// "op"). It refuses anything else with the number of the first bad line.
func ReadReplay(r io.Reader) ([]json.RawMessage, error) {
	var lines []json.RawMessage
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), maxReplayLine)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var head struct {
			V   *int    `json:"v"`
			Seq *uint64 `json:"seq"`
			Op  *string `json:"op"`
		}
		if err := json.Unmarshal(line, &head); err != nil || head.V == nil || head.Seq == nil || head.Op == nil {
			return nil, &ReplayError{Line: n, Kind: "not_trace"}
		}
		if *head.V < 1 || *head.V > trace.SchemaVersion {
			return nil, &ReplayError{Line: n, Kind: "schema", Args: []any{*head.V, trace.SchemaVersion}}
		}
		if len(lines) == maxReplayEvents {
			return nil, &ReplayError{Line: n, Kind: "too_many", Args: []any{maxReplayEvents}}
		}
		lines = append(lines, json.RawMessage(bytes.Clone(line)))
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, &ReplayError{Line: len(lines) + 1, Kind: "too_long", Args: []any{maxReplayLine >> 20}}
		}
		return nil, err
	}
	if len(lines) == 0 {
		return nil, &ReplayError{Kind: "empty"}
	}
	return lines, nil
}

// The bounds of a replay: a lesson's trace is a few hundred lines.
const (
	maxReplayLine   = 1 << 20
	maxReplayEvents = 200000
)

// A ReplayError says why a file is not a trace to replay: Kind names the
// reason (its sentence is the catalogue's "replay."+Kind, with Args), Line
// the first bad line (0: the file as a whole).
type ReplayError struct {
	Line int
	Kind string // not_trace, schema, too_many, too_long, empty
	Args []any
}

func (e *ReplayError) Error() string { return e.Say(i18n.EN) }

// Say says the error in l.
func (e *ReplayError) Say(l i18n.Lang) string {
	reason := l.T("replay."+e.Kind, e.Args...)
	if e.Line == 0 {
		return reason
	}
	return l.T("replay.line", e.Line, reason)
}

// readerLang is the language of a page that has no catalogue yet (the
// token's refusal): the browser's first choice when socklab speaks it,
// else the one socklab web was started in.
func (s *Server) readerLang(r *http.Request) i18n.Lang {
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(tag, "-")
		if l, ok := i18n.Parse(primary); ok {
			return l
		}
		if primary != "" && primary != "*" {
			break // the reader's first choice is one socklab does not speak
		}
	}
	return s.opts.Lang
}
