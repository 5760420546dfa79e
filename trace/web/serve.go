package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"time"
)

// Serve serves the page on ln until ctx is done or serving fails. Then
// the run in progress stops (its sockets closed, its closes sent to the
// pages), then the pages and the HTTP server, within a second. It returns
// serving's error, or nil when ctx ended it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-served:
	}
	s.Close()
	shutdown, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	hs.Shutdown(shutdown)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// OpenBrowser asks the system to open url in its browser.
func OpenBrowser(url string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// Reaped in the background: the opener returns at once, the browser
	// lives on its own.
	go cmd.Wait()
	return nil
}
