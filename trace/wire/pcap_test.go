package wire

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/socklab/socklab/trace"
)

// TestPcapRoundTrip writes a call and two packets, reads the file back
// with gopacket's reader (and tcpdump's, where it is installed, as CI has
// it): the packets as captured, at their stamps, outbound, each with the
// comment naming the call before it.
func TestPcapRoundTrip(t *testing.T) {
	syn := frame(t, false, layers.IPProtocolTCP, 40000, 1234, nil)
	data := frame(t, false, layers.IPProtocolTCP, 40000, 1234, []byte("hello"))
	sent := time.Date(2026, 12, 3, 8, 0, 0, 123456789, time.UTC)
	var buf bytes.Buffer
	sink, err := NewPcapSink(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []trace.Event{
		{Peer: "client", Role: trace.Client, Op: trace.OpConnect, Phase: trace.Begin, Step: 5, Syscall: "connect", FD: 9},
		{Peer: "client", Op: trace.OpPacket, Packet: &trace.Packet{Proto: "tcp", Flags: "SYN", Frame: syn, Sent: sent}},
		{Peer: "client", Role: trace.Client, Op: trace.OpWrite, Phase: trace.Begin, Step: 9, Syscall: "write", FD: 9},
		{Peer: "client", Op: trace.OpPacket, N: 5, Packet: &trace.Packet{Proto: "tcp", Flags: "PSH-ACK", Frame: data, Sent: sent.Add(time.Microsecond)}},
	} {
		if err := sink.Handle(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "run.pcapng")
	if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	r, err := pcapgo.NewNgReader(bytes.NewReader(buf.Bytes()), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	if r.LinkType() != layers.LinkTypeEthernet {
		t.Errorf("link type %v, want Ethernet", r.LinkType())
	}
	want := []struct {
		frame   []byte
		at      time.Time
		comment string
	}{
		{syn, sent, "after client [5] connect(9) began"},
		{data, sent.Add(time.Microsecond), "after client [9] write(9) began"},
	}
	for i, w := range want {
		got, ci, opts, err := r.ReadPacketDataWithOptions()
		if err != nil {
			t.Fatalf("packet %d: %v", i+1, err)
		}
		if !bytes.Equal(got, w.frame) || !ci.Timestamp.Equal(w.at) {
			t.Errorf("packet %d: %d bytes at %v, want %d at %v", i+1, len(got), ci.Timestamp, len(w.frame), w.at)
		}
		if len(opts.Comments) != 1 || opts.Comments[0] != w.comment {
			t.Errorf("packet %d: comments %q, want %q", i+1, opts.Comments, w.comment)
		}
		if opts.Flags == nil || opts.Flags.Direction != pcapgo.NgEpbFlagDirectionOutbound {
			t.Errorf("packet %d: flags %+v, want outbound", i+1, opts.Flags)
		}
	}
	if _, _, err := r.ReadPacketData(); !errors.Is(err, io.EOF) {
		t.Errorf("after the packets: %v, want EOF", err)
	}

	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tcpdump is missing in CI: .ci/run installs it")
		}
		t.Skip("tcpdump is missing: not read with a second reader (apt-get install tcpdump)")
	}
	out, err := exec.Command(tcpdump, "-nn", "-r", file).Output()
	if err != nil {
		t.Fatalf("tcpdump -r: %v", err)
	}
	if lines := strings.Split(strings.TrimSpace(string(out)), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "40000 > 127.0.0.1.1234") {
		t.Errorf("tcpdump read:\n%s", out)
	}
}
