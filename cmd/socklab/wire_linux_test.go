package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"

	"github.com/socklab/socklab/trace"
)

// withoutNetRaw returns the command that runs socklab with args and
// without CAP_NET_RAW: as root, through setpriv, with the capability out
// of its bounding set (so that exec does not grant it).
func withoutNetRaw(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	if os.Geteuid() != 0 {
		return exec.Command(socklabBinary(t), args...)
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("setpriv (util-linux) is missing in CI")
		}
		t.Skip("running as root without setpriv: cannot drop CAP_NET_RAW")
	}
	return exec.Command(setpriv, append([]string{"--inh-caps=-net_raw", "--bounding-set=-net_raw", socklabBinary(t)}, args...)...)
}

// TestWireWithoutCapability: without CAP_NET_RAW, --wire says so in one
// line and the lesson runs, every step, exit 0.
func TestWireWithoutCapability(t *testing.T) {
	cmd := withoutNetRaw(t, "run", "basic", "--wire", "--format=json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if stderr.String() != msgWireNoCapability {
		t.Errorf("stderr:\n%s\nwant:\n%s", stderr.String(), msgWireNoCapability)
	}
	steps := map[int]bool{}
	for _, e := range jsonEvents(t, stdout.Bytes()) {
		if e.Op == trace.OpPacket {
			t.Fatalf("a packet without the capability: %+v", e)
		}
		steps[e.Step] = true
	}
	for s := 1; s <= 11; s++ {
		if !steps[s] {
			t.Errorf("step %d missing", s)
		}
	}
}

// TestWirePcap: --pcap writes every packet the trace shows, in its order,
// each with the comment naming the call before it; as root (CI).
func TestWirePcap(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root")
		}
		t.Skip("capturing needs CAP_NET_RAW: run as root (CI does)")
	}
	file := filepath.Join(t.TempDir(), "run.pcapng")
	cmd := exec.Command(socklabBinary(t), "run", "basic", "--format=json", "--pcap", file)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || stderr.Len() > 0 {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var packets []trace.JSONEvent
	var lastCall trace.JSONEvent
	var comments []string
	for _, e := range jsonEvents(t, stdout.Bytes()) {
		if e.Op != trace.OpPacket {
			lastCall = e
			continue
		}
		packets = append(packets, e)
		comments = append(comments, lastCall.Peer)
	}
	if len(packets) < 10 { // the handshake, two messages and their ACKs, the teardown
		t.Fatalf("%d packets in the trace", len(packets))
	}
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		data, _, opts, err := r.ReadPacketDataWithOptions()
		if errors.Is(err, io.EOF) {
			if i != len(packets) {
				t.Errorf("%d packets in the file, %d in the trace", i, len(packets))
			}
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(packets) {
			t.Fatalf("more packets in the file than in the trace")
		}
		if len(data) < 14+20+20 || len(opts.Comments) != 1 || !strings.HasPrefix(opts.Comments[0], "after "+comments[i]+" ") {
			t.Errorf("packet %d: %d bytes, comments %q; want one naming %s's call", i+1, len(data), opts.Comments, comments[i])
		}
	}
	if !strings.Contains(first(t, file), "connect(") {
		t.Errorf("the first packet's comment does not name connect")
	}
}

// first is the first packet's comment in a pcapng file.
func first(t *testing.T, file string) string {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := pcapgo.NewNgReader(f, pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	_, _, opts, err := r.ReadPacketDataWithOptions()
	if err != nil || len(opts.Comments) == 0 {
		t.Fatalf("no first packet with a comment: %v", err)
	}
	return opts.Comments[0]
}

// jsonEvents parses a JSON Lines trace.
func jsonEvents(t *testing.T, out []byte) []trace.JSONEvent {
	t.Helper()
	var events []trace.JSONEvent
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var e trace.JSONEvent
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		events = append(events, e)
	}
	return events
}

// TestTrafficTableCountsPackets: with --wire, the http and websocket
// lessons' tables count the packets that carried each row's traffic and
// their bytes from the IP header on: never less than the bytes written plus
// 40 bytes of IPv4 and TCP headers a packet; Connection: close pays three
// handshakes and three teardowns where keep-alive pays one. As root (CI).
func TestTrafficTableCountsPackets(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("CI runs as root")
		}
		t.Skip("capturing needs CAP_NET_RAW: run as root (CI does)")
	}
	for _, lesson := range []string{"http", "websocket"} {
		t.Run(lesson, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), []string{"run", lesson, "--wire", "--layout=lines"}, env{stdout: &stdout, stderr: &stderr}); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr.String())
			}
			lines := strings.Split(stdout.String(), "\n")
			at := slices.IndexFunc(lines, func(l string) bool { return strings.Contains(l, "bytes in packets") })
			if at < 0 {
				t.Fatalf("no packet columns in the table:\n%s", stdout.String())
			}
			packets := map[string]int{}
			for _, l := range lines[at+1:] {
				f := strings.Fields(l)
				if len(f) < 8 {
					break
				}
				if _, err := strconv.Atoi(f[len(f)-1]); err != nil {
					break // the note under the table
				}
				n := func(i int) int { v, _ := strconv.Atoi(f[len(f)-i]); return v }
				written, count, bytesIn := n(5), n(2), n(1)
				what := strings.Join(f[:len(f)-7], " ")
				if count == 0 || bytesIn < written+40*count {
					t.Errorf("%s: %d packets of %d bytes for %d bytes written", what, count, bytesIn, written)
				}
				packets[what] = count
			}
			if lesson == "http" && packets["HTTP, Connection: close"] < packets["HTTP, keep-alive"]+2*6 {
				t.Errorf("Connection: close took %d packets, keep-alive %d: want at least two more handshakes and teardowns", packets["HTTP, Connection: close"], packets["HTTP, keep-alive"])
			}
			if len(packets) == 0 {
				t.Errorf("no rows under the table's head:\n%s", stdout.String())
			}
		})
	}
}
