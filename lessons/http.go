package lessons

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"sync"

	"github.com/socklab/socklab/trace"
)

var httpLesson = Lesson{
	Name:    "http",
	Summary: summary("http"),
	Run:     runHTTP,
	Traffic: measureTraffic,
	Preview: 512, // whole HTTP headers: what the lesson is about
}

// HTTP is request and response: the server cannot send anything it was
// not asked for, and every exchange carries its headers again. Here Go's
// own net/http server and client, unmodified, run on traced sockets: each
// accept, read, write and close they make is a line of the trace.
func runHTTP(ctx context.Context, tr *trace.Tracer, _ Options) error {
	// The server answers every request with the time.
	ctx, cancel := withinProtocolBound(ctx, tr)
	defer cancel()
	srv, err := startHTTPServer(ctx, tr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, clock())
	}))
	if err != nil {
		return err
	}
	defer srv.stop()

	// First the client says "Connection: close": each request opens a
	// connection (create, connect) and each response ends it (close).
	if err := askTimes(ctx, srv.client(tr, false), srv.url, false); err != nil {
		return err
	}

	// Then with keep-alive, the default: one connection carries all three
	// exchanges, and is closed only when the client is done with it.
	keepAlive := srv.client(tr, true)
	if err := askTimes(ctx, keepAlive, srv.url, true); err != nil {
		return err
	}
	keepAlive.CloseIdleConnections()
	return srv.finish(ctx)
}

// askTimes asks the server for the time three times, one request after the
// other.
func askTimes(ctx context.Context, client *http.Client, url string, keepAlive bool) error {
	for range 3 {
		// With keep-alive, the transport hands the connection back to its
		// pool on a goroutine of its own, after the body is read; a
		// request made before that would dial a second connection. So
		// each request waits until the connection is back (httptrace's
		// PutIdleConn): one connection, every run.
		idle := make(chan struct{})
		reqCtx := ctx
		if keepAlive {
			var once sync.Once
			reqCtx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{PutIdleConn: func(error) { once.Do(func() { close(idle) }) }})
		}
		req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, url+"/time", nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || len(body) != len(clock()) {
			return fmt.Errorf("the server answered %s %q, not the time", resp.Status, body)
		}
		if keepAlive {
			select {
			case <-idle:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
	}
	return nil
}
