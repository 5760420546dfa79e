package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/socklab/socklab/internal/report"
	"github.com/socklab/socklab/internal/runsession"
	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
	"github.com/socklab/socklab/trace/ptrace"
	"github.com/socklab/socklab/trace/web"
)

// runWeb runs `socklab web [LESSON]`: the page's server, until Ctrl-C.
func runWeb(ctx context.Context, args []string, e *env) error {
	c := newCommand(e, "web", "usage.synopsis.web")
	c.globalFlags()
	var addrFlag, replay string
	var open bool
	c.stringFlag(&addrFlag, "addr", "HOST:PORT", defaultHost+":0", "flag.addr.web")
	c.boolFlag(&open, "open", "flag.open")
	c.stringFlag(&replay, "replay", "FILE", "", "flag.replay")
	c.boolFlag(&c.wire, "wire", "flag.wire")
	rest, err := c.parse(args, 1)
	if err != nil {
		return ignoreHelp(err)
	}
	name := defaultLesson
	if len(rest) == 1 {
		if replay != "" {
			return usage("hint.replay_and_lesson", "err.replay_and_lesson", rest[0])
		}
		name = rest[0]
	}
	if _, ok := lessons.Lookup(name); !ok {
		return usage("hint.unknown_lesson", "err.unknown_lesson", name)
	}
	return serveWeb(ctx, c, c.lessonPage(name, defaultLessonOptions), replay, addrFlag, open)
}

// defaultLessonOptions are a lesson's options when no flag changes them.
var defaultLessonOptions = lessons.Options{Message: lessons.DefaultMessage, Reply: lessons.DefaultReply, Clients: lessons.DefaultClients}

// lessonPage is the page of the lessons, starting on lesson; its runs
// take run's options.
func (c *command) lessonPage(lesson string, run lessons.Options) web.Options {
	opts := web.Options{Lesson: lesson, Run: c.webRunner(run)}
	for _, l := range lessons.All() {
		title := map[i18n.Lang]string{}
		for _, lang := range i18n.Langs {
			title[lang] = lang.T("lesson." + l.Name)
		}
		opts.Lessons = append(opts.Lessons, web.Lesson{Name: l.Name, Title: title})
	}
	return opts
}

// serveWeb serves the page of opts (or the replay of a file) at addr,
// until ctx is done. socklab web, run --web and trace --web share it.
func serveWeb(ctx context.Context, c *command, opts web.Options, replay, addrFlag string, open bool) error {
	e := c.env
	// The runs' sockets are counted, for the line that ends an
	// interrupted server: their closes went to the page.
	e.made, e.textTrace = new(runsession.SocketCount), false
	spec, err := parseAddr(addrFlag, true)
	if err != nil {
		return err
	}
	opts.Lang, opts.Wire = e.lang, c.wire
	opts.Describe = func(err error, l i18n.Lang) string { return safeLine(say(l, err)) }
	if replay != "" {
		opts.Run = nil
		f, err := os.Open(replay)
		if err != nil {
			return failure("hint.replay", "err.replay", replay, fileError(e.lang, err))
		}
		opts.Replay, err = web.ReadReplay(f)
		f.Close()
		if err != nil {
			return failure("hint.replay", "err.replay", replay, fileError(e.lang, err))
		}
	}
	addr, err := resolve(ctx, spec)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		return failure("hint.web_listen", "err.web_listen", addr, fileError(e.lang, err))
	}
	srv, err := web.New(opts)
	if err != nil {
		ln.Close()
		return err
	}
	bound := ln.Addr().(*net.TCPAddr).AddrPort()
	if !bound.Addr().IsLoopback() {
		e.warn("warn.web_public", bound)
	}
	host := bound.String()
	if bound.Addr().IsUnspecified() {
		host = net.JoinHostPort(defaultHost, fmt.Sprint(bound.Port()))
	}
	url := srv.URL(host)
	fmt.Fprintln(e.stdout, e.lang.T("line.web_url", url))
	if open {
		if err := web.OpenBrowser(url); err != nil {
			e.warn("warn.web_open", err)
		}
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return failure("hint.web_listen", "err.web_listen", addr, err.Error())
	}
	return context.Cause(ctx)
}

// webRunner plays a lesson for the page: the lesson's own script, paced by
// the page's Next, traced into the page's sink, with the wire view when
// --wire asks for it.
func (c *command) webRunner(opts lessons.Options) web.Runner {
	return func(ctx context.Context, name string, sink trace.Sink, pace trace.Pace) error {
		lesson, ok := lessons.Lookup(name)
		if !ok {
			return usage("hint.unknown_lesson", "err.unknown_lesson", name) // the server offers only lessons
		}
		gate := trace.NewConductor(ctx, lesson.Script, pace).Settle(settleTime)
		s := c.pageSession(sink)
		defer s.Close()
		tr := s.start(gate, true)
		s.sayNoWire(ctx)
		return lesson.Run(ctx, tr, opts)
	}
}

// webAlone refuses, with --web, the flags of a terminal's trace: the page
// has its own pace and its own picture.
func (c *command) webAlone() error {
	if c.pcap != "" || c.step || c.delay != 0 || flagGiven(c.fs, "format") || flagGiven(c.fs, "layout") || c.explain {
		return usage("hint.web_flags", "err.web_flags")
	}
	return nil
}

// tracePage is the page of socklab trace --web: its one "lesson" is the
// programs given on socklab's command line, and nothing else can be run
// from it.
func (c *command) tracePage(programs []ptrace.Program, all bool) web.Options {
	var words []string
	for i, p := range programs {
		if i > 0 {
			words = append(words, "+")
		}
		words = append(words, p.Argv...)
	}
	title := map[i18n.Lang]string{}
	for _, l := range i18n.Langs {
		title[l] = safeLine(strings.Join(words, " "))
	}
	run := func(ctx context.Context, _ string, sink trace.Sink, pace trace.Pace) error {
		// No script: each call that is a step waits for Next, in the order
		// the programs make them.
		gate := trace.NewConductor(ctx, nil, pace).Settle(settleTime)
		s := c.pageSession(sink)
		defer s.Close()
		tr := s.start(gate, false)
		s.sayNoWire(ctx)
		session, _, err := ptrace.Play(ctx, tr, programs, ptrace.PlayOptions{
			Options: ptrace.Options{All: all, KernelState: true, Stepped: true},
			Say:     c.env.warn,
		})
		if err != nil {
			return launchFailed(err)
		}
		report.PageEnds(ctx, session.Wait(), session.LeftOpen())
		return nil
	}
	return web.Options{Lessons: []web.Lesson{{Name: "trace", Title: title}}, Lesson: "trace", Run: run}
}

// sayNoWire tells the page when --wire asked for the packets and the
// capture did not start (no CAP_NET_RAW, another system): the page then
// draws the calls' arrows, and says why (the terminal has the warning).
func (s *session) sayNoWire(ctx context.Context) {
	if s.Wire && !s.Capturing() {
		web.Notice(ctx, "web.notice.nowire")
	}
}
