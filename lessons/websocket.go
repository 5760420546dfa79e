package lessons

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/coder/websocket"

	"github.com/socklab/socklab/trace"
)

var websocketLesson = Lesson{
	Name:    "websocket",
	Summary: summary("websocket"),
	Run:     runWebSocket,
	Uses:    []string{"message"},
	Traffic: measureTraffic,
	Preview: 512, // whole HTTP headers: what the lesson is about
}

// WebSocket starts as HTTP: the client asks to upgrade the connection
// (Sec-WebSocket-Key), the server agrees with 101 Switching Protocols
// (Sec-WebSocket-Accept, derived from the key). From then on the same TCP
// connection carries frames, and either side sends when it wants: here the
// server pushes the time three times before the client says anything.
// The WebSocket library is github.com/coder/websocket, unmodified, on
// net/http's server and client, on traced sockets.
func runWebSocket(ctx context.Context, tr *trace.Tracer, opts Options) error {
	message := opts.message()
	served := make(chan error, 1)
	ctx, cancel := withinProtocolBound(ctx, tr)
	defer cancel()
	srv, err := startHTTPServer(ctx, tr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served <- pushTimes(r.Context(), w, r, message)
	}))
	if err != nil {
		return err
	}
	defer srv.stop()

	if err := listenToPushes(ctx, srv.client(tr, true), srv.url, message); err != nil {
		return err
	}
	if err := <-served; err != nil {
		return err
	}
	return srv.finish(ctx)
}

// pushTimes is the server: it accepts the upgrade, pushes three messages
// nobody asked for, reads the client's one, and closes: a close frame,
// the client's close frame back, then the TCP close.
func pushTimes(ctx context.Context, w http.ResponseWriter, r *http.Request, want string) error {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{CompressionMode: websocket.CompressionDisabled})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	// The library refuses messages over 32 KiB unless told otherwise; the
	// client's message is whatever --message says.
	c.SetReadLimit(max(int64(len(want)), 32<<10))
	for range 3 {
		if err := c.Write(ctx, websocket.MessageText, []byte(clock())); err != nil {
			return err
		}
	}
	_, got, err := c.Read(ctx)
	if err != nil {
		return err
	}
	if string(got) != want {
		return fmt.Errorf("the server read %q, not the client's message", got)
	}
	return c.Close(websocket.StatusNormalClosure, "bye")
}

// listenToPushes is the client: one HTTP request that upgrades the
// connection, then it only reads, until it has three messages; then it
// sends its own, and reads the server's close frame (answering it with its
// own, which the library does).
func listenToPushes(ctx context.Context, client *http.Client, url, message string) error {
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(url, "http"), &websocket.DialOptions{
		HTTPClient:      client,
		CompressionMode: websocket.CompressionDisabled,
	})
	if err != nil {
		return err
	}
	defer c.CloseNow()
	for range 3 {
		_, got, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if len(got) != len(clock()) {
			return fmt.Errorf("the client read %q, not the time", got)
		}
	}
	if err := c.Write(ctx, websocket.MessageText, []byte(message)); err != nil {
		return err
	}
	_, _, err = c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		return errors.Join(errors.New("the server did not close the WebSocket normally"), err)
	}
	return nil
}
