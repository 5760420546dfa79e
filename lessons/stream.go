package lessons

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"unicode/utf8"

	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/sock"
)

var stream = Lesson{
	Name:    "stream",
	Summary: summary("stream"),
	Run:     runStream,
}

// The stream lesson's texts.
var (
	streamBig    = bytes.Repeat([]byte("0123456789"), 300) // 3000 bytes, written at once
	streamFrames = []string{"hello", "你好"}
	streamSplit  = "你好" // 6 bytes, read with a 4-byte buffer
)

// TCP keeps no message boundaries: the reader sees bytes, in order, in
// pieces of any size. The lesson shows it four ways, one after another on
// one connection. Between the parts, the two goroutines wait for each other
// (a channel, not a socket call), so that each part's bytes are alone in
// the stream.
func runStream(ctx context.Context, tr *trace.Tracer, _ Options) error {
	serverDone := make(chan struct{}, 4) // the server finished a part
	clientDone := make(chan struct{}, 4) // the client finished a part
	return oneConnection(ctx, tr,
		func(ctx context.Context, conn *sock.Socket) error {
			buf := make([]byte, ReadBuffer)

			// 1. One write of 3000 bytes, read with a 1024-byte buffer:
			// three reads, 1024 + 1024 + 952.
			for got := 0; got < len(streamBig); {
				n, err := conn.Read(ctx, buf)
				if err != nil {
					return err
				}
				if n == 0 {
					return ErrPeerClosed
				}
				got += n
			}
			serverDone <- struct{}{}

			// 2. Two writes, made before the server reads: usually one read
			// gets both, "pingpong" (the client's kernel may still hold
			// "pong" back a moment, and then it takes two). Either way,
			// nothing in the stream says where "ping" ended.
			if err := waitFor(ctx, clientDone); err != nil {
				return err
			}
			n, err := readAtLeast(ctx, conn, buf, len("pingpong"))
			if err != nil {
				return err
			}
			if string(buf[:n]) != "pingpong" {
				return fmt.Errorf("%w: the two writes read back as %q", errStoryDidNotHappen, buf[:n])
			}
			serverDone <- struct{}{}

			// 3. Framing puts the boundaries back: each message comes
			// after its length, 4 bytes, big-endian. The server reads the
			// length, then exactly that many bytes.
			for _, want := range streamFrames {
				var header [4]byte
				if err := readFull(ctx, conn, header[:]); err != nil {
					return err
				}
				msg := make([]byte, binary.BigEndian.Uint32(header[:]))
				if err := readFull(ctx, conn, msg); err != nil {
					return err
				}
				if string(msg) != want {
					return fmt.Errorf("%w: frame %q, want %q", errStoryDidNotHappen, msg, want)
				}
			}
			serverDone <- struct{}{}

			// 4. A read can end in the middle of a character: "你好" is 6
			// bytes, and a 4-byte buffer cuts "好" in two. Decoding keeps an
			// incomplete character's bytes until the rest arrives.
			var text []rune
			var pending []byte
			small := make([]byte, 4)
			for got := 0; got < len(streamSplit); {
				n, err := conn.Read(ctx, small)
				if err != nil {
					return err
				}
				if n == 0 {
					return ErrPeerClosed // end of file before the whole text
				}
				got += n
				pending = append(pending, small[:n]...)
				for len(pending) > 0 && utf8.FullRune(pending) {
					r, size := utf8.DecodeRune(pending)
					text = append(text, r)
					pending = pending[size:]
				}
			}
			if string(text) != streamSplit {
				return fmt.Errorf("%w: decoded %q, want %q", errStoryDidNotHappen, string(text), streamSplit)
			}

			// Then the end of the stream, and close.
			if _, err := readUntilEOF(ctx, conn, buf); err != nil {
				return err
			}
			return conn.Close()
		},
		func(ctx context.Context, s *sock.Socket) error {
			if err := writeAll(ctx, s, streamBig); err != nil { // 1.
				return err
			}
			if err := waitFor(ctx, serverDone); err != nil {
				return err
			}
			for _, part := range []string{"ping", "pong"} { // 2.
				if err := writeAll(ctx, s, []byte(part)); err != nil {
					return err
				}
			}
			clientDone <- struct{}{}
			if err := waitFor(ctx, serverDone); err != nil {
				return err
			}
			var frames []byte // 3. two framed messages, in one write
			for _, m := range streamFrames {
				frames = binary.BigEndian.AppendUint32(frames, uint32(len(m)))
				frames = append(frames, m...)
			}
			if err := writeAll(ctx, s, frames); err != nil {
				return err
			}
			if err := waitFor(ctx, serverDone); err != nil {
				return err
			}
			if err := writeAll(ctx, s, []byte(streamSplit)); err != nil { // 4.
				return err
			}
			return s.Close()
		},
	)
}

// waitFor waits for the other goroutine to finish its part.
func waitFor(ctx context.Context, done <-chan struct{}) error {
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
