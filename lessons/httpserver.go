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

// An httpServer is an HTTP server on a traced listener, and the
// bookkeeping that lets a lesson end only when every connection either
// side opened is closed, so that its trace is complete.
type httpServer struct {
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

// ProtocolBound bounds a whole protocol lesson (http, websocket), in
// machine time (a person's pause does not count): the libraries wait on
// Go's poller, not in a blocking call, where the stall watch cannot see
// them, so a lesson changed so that both sides wait would otherwise wait
// for ever. Unpaused, either lesson takes milliseconds.
const ProtocolBound = 20 * time.Second

// ErrLessonTooLong is the cause of a protocol lesson stopped by ProtocolBound.
var ErrLessonTooLong error = reasonError{"lesson-bound", fmt.Sprintf("the lesson did not finish within %v", ProtocolBound)}

// withinProtocolBound returns ctx bounded by ProtocolBound on tr's stopwatch.
func withinProtocolBound(ctx context.Context, tr *trace.Tracer) (context.Context, context.CancelFunc) {
	return tr.Stopwatch().Within(ctx, ProtocolBound, ErrLessonTooLong)
}

// errHTTPStopping is what a dial or an accept gets once the lesson is
// stopping: no new connection may slip past stop's count.
var errHTTPStopping = errors.New("the lesson is stopping")

// keep records a connection the lesson must close, or closes it at once if
// the lesson is already stopping.
func (s *httpServer) keep(list *[]*sock.Conn, c *sock.Conn) error {
	s.mu.Lock()
	stopping := s.stopping
	if !stopping {
		*list = append(*list, c)
	}
	s.mu.Unlock()
	if stopping {
		c.Close() // not under the lock: a traced close may wait (--step)
		return errHTTPStopping
	}
	return nil
}

// trackingListener records every connection the server accepts, before
// net/http sees it, so that stop can close each one.
type trackingListener struct {
	*sock.Listener
	srv *httpServer
}

func (l trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if err := l.srv.keep(&l.srv.accepted, c.(*sock.Conn)); err != nil {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed}
	}
	return c, nil
}

// startHTTPServer listens on the loopback address, on a port the kernel chooses,
// and serves handler until stop, which ctx's end calls too. The listening
// socket traces as "server"; each connection it accepts as a peer of its
// own, "server-1", "server-2", ….
func startHTTPServer(ctx context.Context, tr *trace.Tracer, handler http.Handler) (*httpServer, error) {
	ln, err := sock.Listen(tr.Peer("server", trace.Server), loopback4, backlog)
	if err != nil {
		return nil, err
	}
	s := &httpServer{url: "http://" + ln.Addr().String(), served: make(chan error, 1)}
	ln.ConnPeer = func() *trace.Peer {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.servers++
		return tr.Peer(fmt.Sprintf("server-%d", s.servers), trace.Server)
	}
	s.server = &http.Server{
		Handler: handler,
		// The library must not print: a lesson never does.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { s.served <- s.server.Serve(trackingListener{ln, s}) }()
	// Under the lock: with ctx already done, the AfterFunc's stop runs at
	// once, on another goroutine, and reads unwatch.
	s.mu.Lock()
	s.unwatch = context.AfterFunc(ctx, func() { s.stop() })
	s.mu.Unlock()
	return s, nil
}

// client returns an HTTP client whose connections are traced sockets, each
// a peer of its own: "client-1", "client-2", …. keepAlive false sends
// "Connection: close" and opens a connection per request.
func (s *httpServer) client(tr *trace.Tracer, keepAlive bool) *http.Client {
	return &http.Client{Transport: &http.Transport{
		DisableKeepAlives: !keepAlive,
		DialContext: func(ctx context.Context, _, address string) (net.Conn, error) {
			addr, err := netip.ParseAddrPort(address)
			if err != nil {
				return nil, err
			}
			s.mu.Lock()
			if s.stopping {
				s.mu.Unlock()
				return nil, errHTTPStopping
			}
			s.clients++
			peer := tr.Peer(fmt.Sprintf("client-%d", s.clients), trace.Client)
			s.dialing.Add(1)
			s.mu.Unlock()
			defer s.dialing.Done()
			// The transport dials on a goroutine of its own, which may
			// outlive the request that asked for it: the lesson waits for
			// it in stop.
			c, err := sock.Dial(ctx, peer, addr)
			if err != nil {
				return nil, err
			}
			if err := s.keep(&s.dialed, c); err != nil {
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
func (s *httpServer) finish(ctx context.Context) error {
	for _, c := range s.conns() {
		select {
		case <-c.Done():
		case <-ctx.Done():
			c.Close()
		}
	}
	if ctx.Err() != nil {
		return errors.Join(s.stop(), context.Cause(ctx)) // interrupted: say so
	}
	return s.stop()
}

// stop closes the listening socket and any connection still open, and
// waits until the server has stopped. It is safe to call twice, and from
// two goroutines at once (the lesson's defer and ctx's end).
func (s *httpServer) stop() error {
	s.stopped.Do(func() {
		s.mu.Lock()
		s.stopping = true
		unwatch := s.unwatch
		s.mu.Unlock()
		unwatch()
		s.server.Close()
		s.dialing.Wait()
		for _, c := range s.conns() {
			c.Close() // hijacked connections are the lesson's; the server does not track them
		}
		// Serve returns ErrServerClosed, or the listener's net.ErrClosed
		// when stop began just before the server was closed.
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			s.stopErr = err
		}
	})
	return s.stopErr
}

// conns lists the connections both sides made so far.
func (s *httpServer) conns() []*sock.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Concat(s.dialed, s.accepted)
}

// clock is what the servers of both lessons say: the time, to the
// millisecond, always 12 bytes, so that HTTP and WebSocket carry the same
// payload.
func clock() string { return time.Now().Format("15:04:05.000") }
