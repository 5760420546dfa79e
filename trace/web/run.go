package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// A page is one browser page's WebSocket. What the server says to it goes
// through out, written by the page's own goroutine, so that a slow page
// never holds a traced call: a page that falls too far behind is dropped.
type page struct {
	conn *websocket.Conn
	out  chan []byte
	once sync.Once
	gone chan struct{}
	// bye asks the writer to send what is queued, then say goodbye;
	// written is closed once it has.
	bye, written chan struct{}
	byeOnce      sync.Once
}

// pageQueue is how many messages a page may fall behind: thousands of
// events, more than any lesson's run.
const pageQueue = 1 << 14

func (p *page) send(msg []byte) {
	select {
	case <-p.gone:
	case p.out <- msg:
	default:
		// Too slow: rather than lose messages, lose the page (it may
		// reload and get the run so far).
		p.drop()
	}
}

// drop disconnects the page at once; it is called with the server's lock
// held, so it waits for nothing.
func (p *page) drop() {
	p.once.Do(func() {
		close(p.gone)
		p.conn.CloseNow()
	})
}

// finish sends the page what is queued for it (the run's last closes and
// its end), then says goodbye and disconnects it; it waits a few seconds
// at most.
func (p *page) finish() {
	p.byeOnce.Do(func() { close(p.bye) })
	select {
	case <-p.written:
	case <-time.After(writeTimeout):
	}
	p.once.Do(func() {
		close(p.gone)
		p.conn.Close(websocket.StatusGoingAway, "socklab web stopped")
	})
}

// writeTimeout bounds one write to a page: a page that does not read for
// that long is gone.
const writeTimeout = 10 * time.Second

func (p *page) write(ctx context.Context) {
	defer close(p.written)
	send := func(msg []byte) bool {
		ctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		if err := p.conn.Write(ctx, websocket.MessageText, msg); err != nil {
			p.drop()
			return false
		}
		return true
	}
	for {
		select {
		case <-p.gone:
			return
		case msg := <-p.out:
			if !send(msg) {
				return
			}
		case <-p.bye:
			for {
				select {
				case msg := <-p.out:
					if !send(msg) {
						return
					}
				default:
					return
				}
			}
		}
	}
}

// A command is what a page asks (docs/web.md).
type command struct {
	Cmd     string `json:"cmd"`
	Lesson  string `json:"lesson"`
	DelayMS int64  `json:"delay_ms"`
}

// maxCommand bounds what a page may send in one message.
const maxCommand = 4096

func (s *Server) serveSocket(w http.ResponseWriter, r *http.Request) {
	// Accept checks that the Origin is this server's own host: a page
	// served by another site cannot open the socket, token or not.
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered
	}
	conn.SetReadLimit(maxCommand)
	p := &page{conn: conn, out: make(chan []byte, pageQueue), gone: make(chan struct{}), bye: make(chan struct{}), written: make(chan struct{})}
	ctx := r.Context()
	go p.write(ctx)
	s.join(p)
	defer s.leave(p)
	for {
		_, msg, err := conn.Read(ctx)
		if err != nil {
			p.drop()
			return
		}
		var c command
		if err := json.Unmarshal(msg, &c); err != nil {
			p.send(errorMessage("err.web.command"))
			continue
		}
		s.do(p, c)
	}
}

// join adds a page and tells it what there is: the replay, or the run so
// far.
func (s *Server) join(p *page) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
	}
	s.pages[p] = true
	hello := map[string]any{"type": "hello", "mode": s.mode(), "running": s.run != nil, "lesson": s.opts.Lesson}
	if s.run != nil {
		// The run's own speed: a reloaded page shows what the run does.
		hello["lesson"] = s.run.lesson
		hello["delay_ms"] = s.run.delayMS()
	}
	p.send(marshal(hello))
	if s.opts.Replay != nil {
		p.send(marshal(map[string]any{"type": "replay", "events": s.opts.Replay}))
		return
	}
	for _, msg := range s.history {
		p.send(msg)
	}
}

// leave forgets a page; when it was the last, a run in progress is stopped
// unless a page comes back within the grace time.
func (s *Server) leave(p *page) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.pages, p)
	if len(s.pages) == 0 && s.run != nil && s.grace == nil {
		r := s.run
		s.grace = time.AfterFunc(s.opts.Grace, func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if len(s.pages) == 0 {
				r.stop(trace.ErrStopped)
			}
			s.grace = nil
		})
	}
}

// do carries out a page's command.
func (s *Server) do(p *page, c command) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.run
	switch c.Cmd {
	case "run":
		switch {
		case s.opts.Run == nil:
			p.send(errorMessage("err.web.replay"))
		case s.closed:
		case r != nil:
			p.send(errorMessage("err.web.running"))
		case !s.knows(c.Lesson):
			p.send(errorMessage("err.web.lesson"))
		default:
			s.start(c.Lesson, c.DelayMS)
		}
	case "next":
		if r != nil {
			r.next()
		}
	case "stop":
		if r != nil {
			r.stop(trace.ErrStopped)
		}
	case "delay":
		if r != nil {
			r.setDelay(c.DelayMS)
			// Every page, and any that comes later, shows the new speed.
			s.publishLocked(map[string]any{"type": "delay", "run": r.id, "delay_ms": r.delayMS()})
		}
	default:
		p.send(errorMessage("err.web.command"))
	}
}

// knows says whether name is one of the lessons the page may run: nothing
// else can be run from a page.
func (s *Server) knows(name string) bool {
	for _, l := range s.opts.Lessons {
		if l.Name == name {
			return true
		}
	}
	return false
}

// A run is the run in progress.
type run struct {
	id     int
	lesson string
	cancel context.CancelCauseFunc

	mu      sync.Mutex
	nexts   int           // Nexts pressed and not yet used (at most one)
	delay   time.Duration // 0: wait for Next
	changed chan struct{} // closed and replaced when nexts or delay change
}

func (r *run) next() {
	r.mu.Lock()
	defer r.mu.Unlock()
	// One Next ahead at most: a second press while the call settles
	// moves on one step, not two.
	r.nexts = 1
	r.broadcast()
}

func (r *run) setDelay(ms int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.delay = delayOf(ms)
	r.broadcast()
}

// delayMS is the run's speed, in milliseconds (0: by hand).
func (r *run) delayMS() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.delay.Milliseconds()
}

func (r *run) broadcast() {
	close(r.changed)
	r.changed = make(chan struct{})
}

func (r *run) stop(cause error) { r.cancel(cause) }

// maxDelay bounds the speed: as --delay's bound.
const maxDelay = 10 * time.Minute

func delayOf(ms int64) time.Duration {
	return min(max(time.Duration(ms)*time.Millisecond, 0), maxDelay)
}

// pace is the conductor's pace: it tells the pages which call waits, then
// waits for Next, the delay, or the end of the run. A person's pause holds
// the tracer's stopwatch (the conductor's doing): no bound runs meanwhile.
func (r *run) pace(s *Server) trace.Pace {
	return func(ctx context.Context, e *trace.Event) error {
		s.publish(map[string]any{"type": "waiting", "run": r.id, "next": map[string]any{
			"peer": e.Peer, "role": e.Role, "op": e.Op, "step": e.Step, "syscall": e.Syscall}})
		since := time.Now()
		for {
			r.mu.Lock()
			if r.nexts > 0 {
				r.nexts = 0
				r.mu.Unlock()
				return nil
			}
			delay, changed := r.delay, r.changed
			r.mu.Unlock()
			var timer *time.Timer
			var due <-chan time.Time
			if delay > 0 {
				left := delay - time.Since(since)
				if left <= 0 {
					return nil
				}
				timer = time.NewTimer(left)
				due = timer.C
			}
			select {
			case <-changed:
			case <-due:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if timer != nil {
				timer.Stop()
			}
		}
	}
}

// start begins a run of lesson. s.mu is held.
func (s *Server) start(lesson string, delayMS int64) {
	s.runs++
	ctx, cancel := context.WithCancelCause(context.Background())
	r := &run{id: s.runs, lesson: lesson, cancel: cancel, delay: delayOf(delayMS), changed: make(chan struct{})}
	s.run = r
	s.history = nil
	s.publishLocked(map[string]any{"type": "run", "run": r.id, "lesson": lesson, "delay_ms": r.delay.Milliseconds()})
	ctx = context.WithValue(ctx, noticeKey{}, func(key string, args []any) {
		s.publish(map[string]any{"type": "notice", "run": r.id, "key": key, "args": args})
	})
	sink := trace.NewJSONSink(&eventWriter{s: s, r: r}, &trace.JSONOptions{Explain: true})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.opts.Run(ctx, lesson, sink, r.pace(s))
		// Stop (or the last page gone) stops the run with ErrStopped:
		// whatever the lesson says of its end then, the run was stopped.
		stopped := errors.Is(err, trace.ErrStopped) || errors.Is(context.Cause(ctx), trace.ErrStopped)
		done := map[string]any{"type": "done", "run": r.id, "stopped": stopped}
		if err != nil && !stopped {
			text := map[i18n.Lang]string{}
			for _, l := range i18n.Langs {
				text[l] = s.opts.Describe(err, l)
			}
			done["error"] = text
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		s.publishLocked(done)
		s.run = nil
		cancel(nil)
	}()
}

type noticeKey struct{}

// Notice tells the pages of the run that ctx (a Runner's) belongs to
// something of the run they should say: key is a catalogue key of the
// page's ("web.notice.…"), args its arguments. Pages that come later get
// it too. Outside a Server's run it does nothing.
func Notice(ctx context.Context, key string, args ...any) {
	if say, ok := ctx.Value(noticeKey{}).(func(string, []any)); ok {
		if args == nil {
			args = []any{}
		}
		say(key, args)
	}
}

// An eventWriter takes the JSON sink's lines, one Write per event, and
// sends each to the pages as an event message.
type eventWriter struct {
	s *Server
	r *run
}

func (w *eventWriter) Write(line []byte) (int, error) {
	msg := make([]byte, 0, len(line)+40)
	msg = append(msg, `{"type":"event","run":`...)
	msg = strconv.AppendInt(msg, int64(w.r.id), 10)
	msg = append(msg, `,"event":`...)
	msg = append(msg, line[:len(line)-1]...) // without its newline
	msg = append(msg, '}')
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	w.s.sendLocked(msg)
	return len(line), nil
}

// publish sends a message of the run to every page and keeps it for the
// pages that come later.
func (s *Server) publish(msg map[string]any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.publishLocked(msg)
}

func (s *Server) publishLocked(msg map[string]any) {
	s.sendLocked(marshal(msg))
}

// sendLocked sends msg to every page and keeps it in the run's history.
// s.mu is held.
func (s *Server) sendLocked(msg []byte) {
	s.history = append(s.history, msg)
	for p := range s.pages {
		p.send(msg)
	}
}

func marshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // our own maps of strings and numbers
	}
	return b
}

// errorMessage is a refused command's answer, in every language.
func errorMessage(key string) []byte {
	text := map[i18n.Lang]string{}
	for _, l := range i18n.Langs {
		text[l] = l.T(key)
	}
	return marshal(map[string]any{"type": "error", "message": text})
}
