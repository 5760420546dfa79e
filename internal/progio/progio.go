// Package progio keeps a traced program's own output apart from the trace:
// each line the program writes is written, whole and prefixed with the
// program's name, to one writer that the trace's lines share, so that no
// program's text ever lands inside a trace line.
package progio

import (
	"bytes"
	"io"
	"os"
	"sync"
	"time"
)

// A Prefixer reads what a program writes on its standard output and error
// (File, the write end of a pipe, given to the program) and writes each
// line to its writer as name + "| " + line.
type Prefixer struct {
	// File is the pipe's write end, for the program's standard output
	// and error. Close it in socklab once the program has started.
	File *os.File
	r    *os.File
	done chan struct{}
	tmu  sync.Mutex
	tail []string // the last lines, for a report of a crash
}

// tailLines is how many of a program's last lines Tail keeps.
const tailLines = 3

// Tail returns the last lines the program wrote (at most three), without
// their newlines.
func (p *Prefixer) Tail() []string {
	p.tmu.Lock()
	defer p.tmu.Unlock()
	return append([]string(nil), p.tail...)
}

// mu is shared by every Prefixer: one program's line is written in one
// write, never among another's. (A trace sink writes each of its lines
// in one write too.)
var mu sync.Mutex

// partialWait is how long a line without its newline (a prompt: "reply: ")
// waits for the rest before it is written on a line of its own.
const partialWait = 150 * time.Millisecond

// New starts a Prefixer for the program name, writing to w.
func New(w io.Writer, name string) (*Prefixer, error) {
	r, wf, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p := &Prefixer{File: wf, r: r, done: make(chan struct{})}
	go p.copy(w, name)
	return p, nil
}

// copy writes what the program wrote, a line at a time. A partial line
// (a prompt) is written once it has waited partialWait for its newline.
func (p *Prefixer) copy(w io.Writer, name string) {
	defer close(p.done)
	defer p.r.Close()
	chunks := make(chan []byte)
	go func() {
		defer close(chunks)
		buf := make([]byte, 4096)
		for {
			n, err := p.r.Read(buf)
			if n > 0 {
				chunks <- append([]byte(nil), buf[:n]...)
			}
			if err != nil {
				return
			}
		}
	}()
	var line []byte
	flush := func() {
		if len(line) == 0 {
			return
		}
		if line[len(line)-1] != '\n' {
			line = append(line, '\n')
		}
		mu.Lock()
		w.Write(append([]byte(name+"| "), line...))
		mu.Unlock()
		p.tmu.Lock()
		p.tail = append(p.tail, string(bytes.TrimRight(line, "\r\n")))
		if len(p.tail) > tailLines {
			p.tail = p.tail[len(p.tail)-tailLines:]
		}
		p.tmu.Unlock()
		line = line[:0]
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case b, ok := <-chunks:
			if !ok {
				flush()
				return
			}
			for len(b) > 0 {
				i := bytes.IndexByte(b, '\n')
				if i < 0 {
					line = append(line, b...)
					break
				}
				line = append(line, b[:i+1]...)
				b = b[i+1:]
				flush()
			}
			timer.Stop()
			if len(line) > 0 {
				timer.Reset(partialWait)
			}
		case <-timer.C:
			flush()
		}
	}
}

// Wait waits until every holder of the pipe's write end has closed it
// (the program, and any process it started, has ended) and its last line
// is out, or for at most d: a process left running in the background
// may hold the pipe for ever.
func (p *Prefixer) Wait(d time.Duration) {
	p.File.Close()
	select {
	case <-p.done:
	case <-time.After(d):
	}
}
