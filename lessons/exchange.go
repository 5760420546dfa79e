package lessons

import (
	"context"

	"github.com/socklab/socklab/trace/sock"
)

// The exchanges the lessons after basic share: writing and reading until
// what is expected has come, echoing, closing whatever is open.

// writeAll writes b with as many write calls as the kernel needs: write may
// take fewer bytes than it was given.
func writeAll(ctx context.Context, s *sock.Socket, b []byte) error {
	for len(b) > 0 {
		n, err := s.Write(ctx, b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// readFull reads exactly len(buf) bytes, with as many reads as it takes.
// It fails if the peer closes first.
func readFull(ctx context.Context, s *sock.Socket, buf []byte) error {
	for got := 0; got < len(buf); {
		n, err := s.Read(ctx, buf[got:])
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrPeerClosed
		}
		got += n
	}
	return nil
}

// readAtLeast reads into buf until at least n bytes came, and returns how
// many did. It fails if the peer closes first.
func readAtLeast(ctx context.Context, s *sock.Socket, buf []byte, n int) (int, error) {
	got := 0
	for got < n {
		m, err := s.Read(ctx, buf[got:])
		if err != nil {
			return got, err
		}
		if m == 0 {
			return got, ErrPeerClosed
		}
		got += m
	}
	return got, nil
}

// readUntilEOF reads until the peer closes its side, and returns how many
// bytes came before that.
func readUntilEOF(ctx context.Context, s *sock.Socket, buf []byte) (int, error) {
	total := 0
	for {
		n, err := s.Read(ctx, buf)
		if err != nil {
			return total, err
		}
		if n == 0 {
			return total, nil
		}
		total += n
	}
}

// closeAll closes sockets, for defer; closing a closed one does nothing.
func closeAll(sockets ...*sock.Socket) {
	for _, s := range sockets {
		if s != nil {
			s.Close()
		}
	}
}

// echoOnce is a server's whole exchange on one connection: write back
// whatever it reads, until end of file, then close.
func echoOnce(ctx context.Context, conn *sock.Socket) error {
	defer conn.Close()
	buf := make([]byte, ReadBuffer)
	for {
		n, err := conn.Read(ctx, buf)
		if err != nil {
			return err
		}
		if n == 0 {
			return conn.Close()
		}
		if err := writeAll(ctx, conn, buf[:n]); err != nil {
			return err
		}
	}
}

// sayAndHear is a client's whole exchange: write msg, read until the
// answer's size has come (a stream may bring it in pieces), close.
func sayAndHear(ctx context.Context, s *sock.Socket, msg string, answer int) error {
	if err := writeAll(ctx, s, []byte(msg)); err != nil {
		return err
	}
	if _, err := readAtLeast(ctx, s, make([]byte, max(ReadBuffer, answer)), answer); err != nil {
		return err
	}
	return s.Close()
}
