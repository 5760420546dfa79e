package wire

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDecodeStoredCaptures decodes captures of real runs (socklab run
// basic, reset and stream with --pcap, stored in testdata) and compares
// what each packet says with a golden file: flags, relative seq and ack
// (the first byte of data is 1), the window scaled by the handshake's
// wscale, the payload's length, the options, and who sent it, by port.
func TestDecodeStoredCaptures(t *testing.T) {
	for _, name := range []string{"basic", "reset", "stream"} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(filepath.Join("testdata", name+".pcapng"))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
			if err != nil {
				t.Fatal(err)
			}
			d := newDecoder()
			var got strings.Builder
			var server string // the port the first SYN goes to
			for {
				frame, _, err := r.ReadPacketData()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				p, payload, ok := d.decode(frame)
				if !ok {
					t.Fatalf("packet %d: not decoded", strings.Count(got.String(), "\n")+1)
				}
				if server == "" {
					server = p.To
				}
				who := "client → server"
				if p.From == server {
					who = "server → client"
				}
				fmt.Fprintf(&got, "%s %-8s seq %d ack %d win %d len %d mss %d wscale %d sack %v\n",
					who, p.Flags, p.Seq, p.Ack, p.Window, len(payload), p.MSS, p.WScale, p.SACK)
			}
			golden := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test ./trace/wire -run Decode -update writes it)", err)
			}
			if !bytes.Equal([]byte(got.String()), want) {
				t.Errorf("decoded:\n%s\nwant (%s):\n%s", got.String(), golden, want)
			}
		})
	}
}

// FuzzDecode: no frame, however made, panics the decoder.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"basic", "reset"} {
		data, err := os.ReadFile(filepath.Join("testdata", name+".pcapng"))
		if err != nil {
			f.Fatal(err)
		}
		r, err := pcapgo.NewNgReader(bytes.NewReader(data), pcapgo.DefaultNgReaderOptions)
		if err != nil {
			f.Fatal(err)
		}
		for {
			frame, _, err := r.ReadPacketData()
			if err != nil {
				break
			}
			f.Add(frame)
		}
	}
	d := newDecoder()
	f.Fuzz(func(t *testing.T, frame []byte) {
		d.decode(frame)
	})
}
