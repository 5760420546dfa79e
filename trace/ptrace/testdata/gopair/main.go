// A Go server and client with package net, as two programs: gopair
// server PORT serves one client (a request, its reply) and ends; gopair
// client PORT dials, sends, reads the reply and closes. Go's sockets are
// non-blocking: the runtime waits in epoll_wait for them.
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gopair server|client PORT")
		os.Exit(2)
	}
	addr := "127.0.0.1:" + os.Args[2]
	var err error
	if os.Args[1] == "server" {
		err = serve(addr)
	} else {
		err = dial(addr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gopair:", err)
		os.Exit(1)
	}
}

func serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, 1024)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	if _, err := c.Write(append([]byte("got "), buf[:n]...)); err != nil {
		return err
	}
	_, err = c.Read(buf) // until the client closes: end of file
	if err != nil && err.Error() != "EOF" {
		return err
	}
	return nil
}

func dial(addr string) error {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if _, err := c.Write([]byte("hello")); err != nil {
		return err
	}
	buf := make([]byte, 1024)
	n, err := c.Read(buf)
	if err != nil {
		return err
	}
	fmt.Println("server says:", string(buf[:n]))
	return nil
}
