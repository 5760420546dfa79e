package lessons

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

// The http and websocket lessons run real protocol libraries, unmodified,
// on traced sockets: net/http's server and client, and a WebSocket library
// on top of them. sock.Listener and sock.Conn present the traced calls as
// a net.Listener and a net.Conn, so every accept, read, write and close the
// libraries cause is traced. Like Go's own net package, those sockets are
// non-blocking: a call that would wait fails with EAGAIN and the goroutine
// waits on the runtime's poller instead, which the trace shows.

// A web is an HTTP server on a traced listener, and the bookkeeping that
// lets a lesson end only when every connection either side opened is
// closed, so that its trace is complete.
type web struct {
	server  *http.Server
	url     string
	served  chan error // what Serve returned
	stopped sync.Once  // stop's work, done once
	stopErr error      // what stop found

	mu       sync.Mutex
	stopping bool        // no new connection may be kept
	unwatch  func() bool // stops the context's AfterFunc
	accepted []*sock.Conn
	dialed   []*sock.Conn
	dialing  sync.WaitGroup // dials under way: stop waits for them
	servers  int            // connections accepted, to name their peers
	clients  int            // connections dialed, to name their peers
}

// WebBound bounds a whole protocol lesson (http, websocket), in machine time (a person's
// pause does not count): the libraries wait on Go's poller, not in a
// blocking call, where the stall watch cannot see them, so a lesson
// changed so that both sides wait would otherwise wait for ever. Unpaused,
// either lesson takes milliseconds.
const WebBound = 20 * time.Second

// ErrLessonTooLong is the cause of a protocol lesson stopped by WebBound.
var ErrLessonTooLong error = reasonError{"lesson-bound", fmt.Sprintf("the lesson did not finish within %v", WebBound)}

// withinWebBound returns ctx bounded by WebBound on tr's stopwatch.
func withinWebBound(ctx context.Context, tr *trace.Tracer) (context.Context, context.CancelFunc) {
	return tr.Stopwatch().Within(ctx, WebBound, ErrLessonTooLong)
}

// errWebStopped is what a dial or an accept gets once the lesson is
// stopping: no new connection may slip past stop's count.
var errWebStopped = errors.New("the lesson is stopping")

// keep records a connection the lesson must close, or closes it at once if
// the lesson is already stopping.
func (w *web) keep(list *[]*sock.Conn, c *sock.Conn) error {
	w.mu.Lock()
	stopping := w.stopping
	if !stopping {
		*list = append(*list, c)
	}
	w.mu.Unlock()
	if stopping {
		c.Close() // not under the lock: a traced close may wait (--step)
		return errWebStopped
	}
	return nil
}

// trackingListener records every connection the server accepts, before
// net/http sees it, so that stop can close each one.
type trackingListener struct {
	*sock.Listener
	w *web
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := l.w.keep(&l.w.accepted, c.(*sock.Conn)); err != nil {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}
	}
	return c, nil
}

// startWeb listens on the loopback address, on a port the kernel chooses,
// and serves handler until stop, which ctx's end calls too. The listening
// socket traces as "server"; each connection it accepts as a peer of its
// own, "server-1", "server-2", ….
func startWeb(ctx context.Context, tr *trace.Tracer, handler http.Handler) (*web, error) {
	ln, err := sock.Listen(tr.Peer("server", trace.Server), loopback4, backlog)
	if err != nil {
		return nil, err
	}
	w := &web{url: "http://" + ln.Addr().String(), served: make(chan error, 1)}
	ln.ConnPeer = func() *trace.Peer {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.servers++
		return tr.Peer(fmt.Sprintf("server-%d", w.servers), trace.Server)
	}
	w.server = &http.Server{
		Handler: handler,
		// The library must not print: a lesson never does.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { w.served <- w.server.Serve(trackingListener{ln, w}) }()
	// Under the lock: with ctx already done, the AfterFunc's stop runs at
	// once, on another goroutine, and reads unwatch.
	w.mu.Lock()
	w.unwatch = context.AfterFunc(ctx, func() { w.stop() })
	w.mu.Unlock()
	return w, nil
}

// client returns an HTTP client whose connections are traced sockets, each
// a peer of its own: "client-1", "client-2", …. keepAlive false sends
// "Connection: close" and opens a connection per request.
func (w *web) client(tr *trace.Tracer, keepAlive bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: !keepAlive,
		DialContext: func(ctx context.Context, _, address string) (net.Conn, error) {
			addr, err := netip.ParseAddrPort(address)
			if err != nil {
				return nil, err
			}
			w.mu.Lock()
			if w.stopping {
				w.mu.Unlock()
				return nil, errWebStopped
			}
			w.clients++
			peer := tr.Peer(fmt.Sprintf("client-%d", w.clients), trace.Client)
			w.dialing.Add(1)
			w.mu.Unlock()
			defer w.dialing.Done()
			// The transport dials on a goroutine of its own, which may
			// outlive the request that asked for it: the lesson waits for
			// it in stop.
			c, err := sock.Dial(ctx, peer, addr)
			if err != nil {
				return nil, err
			}
			if err := w.keep(&w.dialed, c); err != nil {
				return nil, err
			}
			return c, nil
		},
	}}
}

// finish waits until every connection is closed (by the libraries, on
// their own goroutines: the client after "Connection: close" or when told
// its idle connections are done, the server when it reads the client's end
// of file), then stops the server and closes the listening socket. If ctx
// ends first, it closes what is left itself.
func (w *web) finish(ctx context.Context) error {
	for _, c := range w.conns() {
		select {
		case <-c.Done():
		case <-ctx.Done():
			c.Close()
		}
	}
	if ctx.Err() != nil {
		return errors.Join(w.stop(), context.Cause(ctx)) // interrupted: say so
	}
	return w.stop()
}

// stop closes the listening socket and any connection still open, and
// waits until the server has stopped. It is safe to call twice, and from
// two goroutines at once (the lesson's defer and ctx's end).
func (w *web) stop() error {
	w.stopped.Do(func() {
		w.mu.Lock()
		w.stopping = true
		unwatch := w.unwatch
		w.mu.Unlock()
		unwatch()
		w.server.Close()
		w.dialing.Wait()
		for _, c := range w.conns() {
			c.Close() // hijacked connections are the lesson's; the server does not track them
		}
		// Serve returns ErrServerClosed, or the listener's net.ErrClosed
		// when stop began just before the server was closed.
		if err := <-w.served; !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			w.stopErr = err
		}
	})
	return w.stopErr
}

// conns lists the connections both sides made so far.
func (w *web) conns() []*sock.Conn {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Concat(w.dialed, w.accepted)
}

// clock is what the servers of both lessons say: the time, to the
// millisecond, always 12 bytes, so that HTTP and WebSocket carry the same
// payload.
func clock() string { return time.Now().Format("15:04:05.000") }
