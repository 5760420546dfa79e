// A server and its client in one Go program, with the net package: the
// listener's accept runs first and waits (Go's sockets are non-blocking:
// accept4 fails with EAGAIN and the goroutine parks on the poller), then
// the client dials, sends, reads the reply and closes.
package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gonet:", err)
		os.Exit(1)
	}
}

func run() error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	served := make(chan error, 1)
	go func() { served <- serve(ln) }()
	// Let the accept wait first.
	time.Sleep(300 * time.Millisecond)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	if _, err := c.Write([]byte("hello")); err != nil {
		return err
	}
	reply, err := io.ReadAll(c)
	if err != nil {
		return err
	}
	if err := c.Close(); err != nil {
		return err
	}
	if string(reply) != "HELLO" {
		return fmt.Errorf("reply %q", reply)
	}
	fmt.Printf("client got %s\n", reply)
	return <-served
}

func serve(ln net.Listener) error {
	conn, err := ln.Accept()
	if err != nil {
		return err
	}
	buf := make([]byte, 64)
	n, err := conn.Read(buf)
	if err != nil {
		return err
	}
	if _, err := conn.Write(bytes.ToUpper(buf[:n])); err != nil {
		return err
	}
	return conn.Close()
}
