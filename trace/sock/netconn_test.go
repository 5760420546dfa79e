//go:build linux || darwin

package sock

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/nettest"

	"github.com/socklab/socklab/trace"
)

// TestNetConnConformance runs x/net's conformance suite for net.Conn over
// two traced sockets: basic I/O, deadlines in the past, present and future,
// Close waking a blocked Read, concurrent methods.
func TestNetConnConformance(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		tr := trace.New(trace.Discard)
		ln, err := Listen(tr.Peer("server", trace.Server), loopback0, 1)
		if err != nil {
			return nil, nil, nil, err
		}
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			c, _ := ln.Accept()
			accepted <- c
		}()
		addr := ln.Addr().(*net.TCPAddr).AddrPort()
		c1, err = Dial(context.Background(), tr.Peer("client", trace.Client), addr)
		c2 = <-accepted
		if err != nil || c2 == nil {
			if c1 != nil {
				c1.Close()
			}
			if c2 != nil {
				c2.Close()
			}
			return nil, nil, nil, errors.Join(err, errors.New("accept failed"))
		}
		return c1, c2, func() { c1.Close(); c2.Close() }, nil
	})
}

// TestHTTPOverTracedSockets runs net/http's server and client, unmodified,
// on the adapter, with keep-alive (one connection for three requests) and
// without (a connection each), and checks that the trace holds every
// request and response the server and client exchanged.
func TestHTTPOverTracedSockets(t *testing.T) {
	for _, tt := range []struct {
		name        string
		keepAlive   bool
		connections int
	}{
		{"keep-alive", true, 1},
		{"connection-close", false, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var rec trace.Recorder
			tr := trace.New(&rec)
			ln, err := Listen(tr.Peer("server", trace.Server), loopback0, 8)
			require.NoError(t, err)
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "hello "+r.URL.Path)
			})}
			served := make(chan error, 1)
			go func() { served <- srv.Serve(ln) }()

			var dialed []*Conn
			client := &http.Client{Transport: &http.Transport{
				DisableKeepAlives: !tt.keepAlive,
				DialContext: func(ctx context.Context, _, address string) (net.Conn, error) {
					c, err := Dial(ctx, tr.Peer("client", trace.Client), netip.MustParseAddrPort(address))
					if err == nil {
						dialed = append(dialed, c)
					}
					return c, err
				},
			}}
			for _, path := range []string{"/1", "/2", "/3"} {
				resp, err := client.Get("http://" + ln.Addr().String() + path)
				require.NoError(t, err)
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				require.NoError(t, err)
				require.Equal(t, "hello "+path, string(body))
			}
			client.CloseIdleConnections()
			require.NoError(t, srv.Close())
			require.ErrorIs(t, <-served, http.ErrServerClosed)
			require.Len(t, dialed, tt.connections)
			// The transport closes its connections on goroutines of its
			// own: the trace is complete once they are closed.
			for _, c := range dialed {
				<-c.Done()
			}

			var requests, responses, connects, accepts, closes int
			for _, e := range rec.Events() {
				if e.Phase != trace.End || e.Err != nil {
					continue
				}
				switch {
				case e.Op == trace.OpWrite && e.Peer == "client" && strings.HasPrefix(string(e.Data), "GET /"):
					requests++
				case e.Op == trace.OpWrite && e.Peer == "server" && strings.HasPrefix(string(e.Data), "HTTP/1.1 200 OK"):
					responses++
				case e.Op == trace.OpConnect:
					connects++
				case e.Op == trace.OpAccept:
					accepts++
				case e.Op == trace.OpClose:
					closes++
				}
			}
			require.Equal(t, 3, requests, "requests written")
			require.Equal(t, 3, responses, "responses written")
			require.Equal(t, tt.connections, connects)
			require.Equal(t, tt.connections, accepts)
			// Each connection's two ends, and the listening socket.
			require.Equal(t, 2*tt.connections+1, closes)
		})
	}
}

// TestConnCloseWakesRead: Close from another goroutine wakes a Read
// waiting on the poller, which returns net.ErrClosed, and the socket's
// descriptor is closed by one traced close.
func TestConnCloseWakesRead(t *testing.T) {
	var rec trace.Recorder
	tr := trace.New(&rec)
	ln, err := Listen(tr.Peer("server", trace.Server), loopback0, 1)
	require.NoError(t, err)
	defer ln.Close()
	c, err := Dial(context.Background(), tr.Peer("client", trace.Client), ln.Addr().(*net.TCPAddr).AddrPort())
	require.NoError(t, err)
	s, err := ln.Accept()
	require.NoError(t, err)
	defer s.Close()

	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		read <- err
	}()
	// The read found nothing (EAGAIN) and waits on the poller: then close.
	require.Eventually(t, func() bool {
		for _, e := range rec.Events() {
			if e.Peer == "client" && e.Op == trace.OpRead && e.Phase == trace.End && e.Errno == "EAGAIN" {
				return true
			}
		}
		return false
	}, 10*time.Second, time.Millisecond)
	require.NoError(t, c.Close())
	require.ErrorIs(t, <-read, net.ErrClosed)
	_, err = c.Read(make([]byte, 10))
	require.ErrorIs(t, err, net.ErrClosed)
	require.ErrorIs(t, c.Close(), net.ErrClosed)
	require.ErrorIs(t, c.SetReadDeadline(time.Now()), net.ErrClosed)
	n, err := s.Read(nil)
	require.Equal(t, 0, n)
	require.NoError(t, err, "a read into nothing makes no syscall and has nothing to say")
}

// TestConcurrentWritesDoNotMix: two Writes at once, each larger than the
// socket's send buffer (so each takes several write(2) calls and waits on
// the poller between them), arrive whole, one after the other. (Write
// holds the poller's write lock for all of its bytes; a Write that let go
// of it between its write(2) calls could mix them, though the runtime
// seldom lets the other Write in at that moment, so this run may pass
// even then.)
func TestConcurrentWritesDoNotMix(t *testing.T) {
	tr := trace.New(trace.Discard)
	ln, err := Listen(tr.Peer("server", trace.Server), loopback0, 1)
	require.NoError(t, err)
	defer ln.Close()
	c, err := Dial(context.Background(), tr.Peer("client", trace.Client), ln.Addr().(*net.TCPAddr).AddrPort())
	require.NoError(t, err)
	defer c.Close()
	s, err := ln.Accept()
	require.NoError(t, err)
	defer s.Close()

	const size = 4 << 20
	a, b := bytes.Repeat([]byte{'a'}, size), bytes.Repeat([]byte{'b'}, size)
	var wg sync.WaitGroup
	for _, chunk := range [][]byte{a, b} {
		wg.Go(func() {
			_, err := c.Write(chunk)
			require.NoError(t, err)
		})
	}
	// Read slowly, in small pieces, so that each Write makes progress in
	// many partial writes, each after a wait for room.
	got := make([]byte, 0, 2*size)
	buf := make([]byte, 16<<10)
	for len(got) < 2*size {
		n, err := s.Read(buf)
		require.NoError(t, err)
		got = append(got, buf[:n]...)
	}
	wg.Wait()
	first := got[0]
	require.Equal(t, bytes.Repeat([]byte{first}, size), got[:size], "the first write's bytes were mixed with the second's")
}
