// goprobes: a Go server or its client with package net, as two programs:
// goprobes server PORT HOST | goprobes client PORT HOST. With HOST "" (every
// address) and "localhost", Go probes IPv6 and IPv4-mapped addresses with
// throwaway sockets before the real one.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
)

func main() {
	addr := os.Args[3] + ":" + os.Args[2]
	if os.Args[1] == "server" {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		c, err := ln.Accept()
		if err != nil {
			os.Exit(1)
		}
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Write([]byte(strings.ToUpper(line)))
		c.Close()
		ln.Close()
		return
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c.Write([]byte("hello\n"))
	line, _ := bufio.NewReader(c).ReadString('\n')
	fmt.Print("server says: ", line)
	c.Close()
}
