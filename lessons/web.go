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
	server   *http.Server
	listener *sock.Listener
	url      string
	served   chan error

	mu       sync.Mutex
	accepted []*sock.Conn
	dialed   []*sock.Conn
	servers  int // connections accepted, to name their peers
	clients  int // connections dialed, to name their peers
}

// startWeb listens on the loopback address, on a port the kernel chooses,
// and serves handler. The listening socket traces as "server"; each
// connection it accepts as a peer of its own, "server-1", "server-2", ….
func startWeb(tr *trace.Tracer, handler http.Handler) (*web, error) {
	ln, err := sock.Listen(tr.Peer("server", trace.Server), loopback4, backlog)
	if err != nil {
		return nil, err
	}
	w := &web{listener: ln, url: "http://" + ln.Addr().String(), served: make(chan error, 1)}
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
		ConnState: func(c net.Conn, state http.ConnState) {
			if state == http.StateNew {
				w.mu.Lock()
				w.accepted = append(w.accepted, c.(*sock.Conn))
				w.mu.Unlock()
			}
		},
	}
	go func() { w.served <- w.server.Serve(ln) }()
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
			w.clients++
			peer := tr.Peer(fmt.Sprintf("client-%d", w.clients), trace.Client)
			w.mu.Unlock()
			c, err := sock.Dial(ctx, peer, addr)
			if err != nil {
				return nil, err
			}
			w.mu.Lock()
			w.dialed = append(w.dialed, c)
			w.mu.Unlock()
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
	w.mu.Lock()
	conns := append(append([]*sock.Conn(nil), w.dialed...), w.accepted...)
	w.mu.Unlock()
	for _, c := range conns {
		select {
		case <-c.Done():
		case <-ctx.Done():
			c.Close()
		}
	}
	return w.stop()
}

// stop closes the listening socket and any connection still open, and
// waits until the server has stopped. It is safe to call twice.
func (w *web) stop() error {
	w.server.Close()
	w.mu.Lock()
	conns := append(append([]*sock.Conn(nil), w.dialed...), w.accepted...)
	w.mu.Unlock()
	for _, c := range conns {
		c.Close() // hijacked connections are the lesson's; the server does not track them
	}
	if err := <-w.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		w.served <- err
		return err
	}
	w.served <- http.ErrServerClosed
	return nil
}

// clock is what the servers of both lessons say: the time, to the
// millisecond, always 12 bytes, so that HTTP and WebSocket carry the same
// payload.
func clock() string { return time.Now().Format("15:04:05.000") }
