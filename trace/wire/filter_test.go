package wire

import (
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// frame builds an Ethernet frame as loopback carries it: an IPv4 or IPv6
// packet holding a TCP segment or a UDP datagram from sport to dport.
func frame(t testing.TB, v6 bool, proto layers.IPProtocol, sport, dport uint16, payload []byte) []byte {
	t.Helper()
	eth := &layers.Ethernet{SrcMAC: make(net.HardwareAddr, 6), DstMAC: make(net.HardwareAddr, 6), EthernetType: layers.EthernetTypeIPv4}
	var network gopacket.NetworkLayer
	var ip gopacket.SerializableLayer
	if v6 {
		eth.EthernetType = layers.EthernetTypeIPv6
		l := &layers.IPv6{Version: 6, HopLimit: 64, NextHeader: proto, SrcIP: net.IPv6loopback, DstIP: net.IPv6loopback}
		network, ip = l, l
	} else {
		l := &layers.IPv4{Version: 4, IHL: 5, TTL: 64, Protocol: proto, SrcIP: net.IPv4(127, 0, 0, 1), DstIP: net.IPv4(127, 0, 0, 1)}
		network, ip = l, l
	}
	var transport gopacket.SerializableLayer
	switch proto {
	case layers.IPProtocolTCP:
		tcp := &layers.TCP{SrcPort: layers.TCPPort(sport), DstPort: layers.TCPPort(dport), Seq: 1000, ACK: true, Ack: 2000, Window: 512}
		tcp.SetNetworkLayerForChecksum(network)
		transport = tcp
	case layers.IPProtocolUDP:
		udp := &layers.UDP{SrcPort: layers.UDPPort(sport), DstPort: layers.UDPPort(dport)}
		udp.SetNetworkLayerForChecksum(network)
		transport = udp
	default: // ICMP, say: what the filter must not keep
		transport = gopacket.Payload(make([]byte, 8))
	}
	buf := gopacket.NewSerializeBuffer()
	if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, transport, gopacket.Payload(payload)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The frames each filter is tried on, and whether a filter of ports 1234
// and 5678 keeps them.
func filterCases(t *testing.T) []struct {
	name  string
	frame []byte
	keep  bool
} {
	arp := frame(t, false, layers.IPProtocolTCP, 1234, 80, nil)
	binary.BigEndian.PutUint16(arp[12:], uint16(layers.EthernetTypeARP))
	fragment := frame(t, false, layers.IPProtocolTCP, 1234, 80, nil)
	binary.BigEndian.PutUint16(fragment[20:], 0x0010) // a fragment at offset 128
	return []struct {
		name  string
		frame []byte
		keep  bool
	}{
		{"tcp from the port", frame(t, false, layers.IPProtocolTCP, 1234, 40000, nil), true},
		{"tcp to the port", frame(t, false, layers.IPProtocolTCP, 40000, 1234, []byte("hello")), true},
		{"tcp to the other port", frame(t, false, layers.IPProtocolTCP, 40000, 5678, nil), true},
		{"tcp elsewhere", frame(t, false, layers.IPProtocolTCP, 40000, 40001, nil), false},
		{"udp to the port", frame(t, false, layers.IPProtocolUDP, 40000, 1234, []byte("x")), true},
		{"udp elsewhere", frame(t, false, layers.IPProtocolUDP, 40000, 53, nil), false},
		{"icmp", frame(t, false, layers.IPProtocolICMPv4, 0, 0, nil), false},
		{"ipv6 tcp to the port", frame(t, true, layers.IPProtocolTCP, 40000, 1234, nil), true},
		{"ipv6 udp from the port", frame(t, true, layers.IPProtocolUDP, 5678, 40000, nil), true},
		{"ipv6 tcp elsewhere", frame(t, true, layers.IPProtocolTCP, 40000, 40001, nil), false},
		{"arp", arp, false},
		{"ipv4 fragment", fragment, false},
	}
}

// TestFilterKeepsThePorts runs the port filter in x/net/bpf's virtual
// machine on frames of every kind, and tcpdump's program for the same
// expression beside it: both keep the same frames.
func TestFilterKeepsThePorts(t *testing.T) {
	ours, err := assemble(portFilter([]uint16{1234, 5678}))
	if err != nil {
		t.Fatal(err)
	}
	vms := map[string]*bpf.VM{"socklab's": vm(t, ours)}
	if theirs := tcpdumpFilter(t, "(tcp or udp) and (port 1234 or port 5678)"); theirs != nil {
		vms["tcpdump's"] = vm(t, theirs)
	}
	for _, tc := range filterCases(t) {
		for name, m := range vms {
			n, err := m.Run(tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			if kept := n > 0; kept != tc.keep {
				t.Errorf("%s: %s filter keeps it: %v, want %v", tc.name, name, kept, tc.keep)
			}
		}
	}
}

func TestFilterWithNoPortKeepsNothing(t *testing.T) {
	prog, err := filter(nil)
	if err != nil {
		t.Fatal(err)
	}
	n, err := vm(t, prog).Run(frame(t, false, layers.IPProtocolTCP, 1, 2, nil))
	if err != nil || n != 0 {
		t.Errorf("kept %d bytes, %v; want none", n, err)
	}
}

func TestFilterJumpsReachWithTheMostPorts(t *testing.T) {
	ports := make([]uint16, maxPorts)
	for i := range ports {
		ports[i] = uint16(10000 + i)
	}
	if _, err := filter(ports); err != nil {
		t.Fatal(err)
	}
	if _, err := filter(append(ports, 1)); err == nil {
		t.Error("a filter of more ports than its jumps reach was made")
	}
}

func vm(t *testing.T, prog []bpf.Instruction) *bpf.VM {
	t.Helper()
	m, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// tcpdumpFilter compiles expr for an Ethernet link with tcpdump -dd (no
// privilege needed: it reads an empty capture file for the link type),
// or returns nil where tcpdump is missing. CI installs it.
func tcpdumpFilter(t *testing.T, expr string) []bpf.Instruction {
	t.Helper()
	tcpdump, err := exec.LookPath("tcpdump")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tcpdump is missing in CI: .ci/run installs it")
		}
		t.Log("tcpdump is missing: only socklab's filter is checked (apt-get install tcpdump)")
		return nil
	}
	empty := filepath.Join(t.TempDir(), "empty.pcap")
	header := make([]byte, 24)
	binary.LittleEndian.PutUint32(header[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(header[4:], 2)
	binary.LittleEndian.PutUint16(header[6:], 4)
	binary.LittleEndian.PutUint32(header[16:], snapLength)
	binary.LittleEndian.PutUint32(header[20:], 1) // LINKTYPE_ETHERNET
	if err := os.WriteFile(empty, header, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(tcpdump, "-r", empty, "-dd", expr).Output()
	if err != nil {
		t.Fatalf("tcpdump -dd: %v", err)
	}
	// Lines like "{ 0x28, 0, 0, 0x0000000c },".
	var raw []bpf.RawInstruction
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.Trim(strings.TrimSpace(line), "{},")
		if line == "" {
			continue
		}
		f := strings.Split(line, ",")
		if len(f) != 4 {
			t.Fatalf("tcpdump -dd printed %q", line)
		}
		var n [4]uint64
		for i := range f {
			if n[i], err = strconv.ParseUint(strings.TrimSpace(f[i]), 0, 32); err != nil {
				t.Fatalf("tcpdump -dd printed %q: %v", line, err)
			}
		}
		raw = append(raw, bpf.RawInstruction{Op: uint16(n[0]), Jt: uint8(n[1]), Jf: uint8(n[2]), K: uint32(n[3])})
	}
	prog, ok := bpf.Disassemble(raw)
	if !ok {
		t.Fatalf("tcpdump's program has instructions x/net/bpf does not know: %v", prog)
	}
	return prog
}
