package wire

import (
	"fmt"

	"golang.org/x/net/bpf"
)

// The capture's filter runs in the kernel, on every frame loopback carries,
// and keeps only what the trace shows: the copy of a packet that goes out
// (loopback hands the capture each packet twice, going out and coming in;
// the outgoing copy is stamped when it was sent), TCP or UDP over IPv4 or
// IPv6, to or from one of the ports the run uses. Everything else never
// reaches socklab.

// snapLength is how much of a frame the filter keeps: all of it, as
// tcpdump does by default (262,144 bytes).
const snapLength = 262144

// packetOutgoing is the kernel's PACKET_OUTGOING: a frame this machine
// sends, as the ancillary load SKF_AD_PKTTYPE tells it.
const packetOutgoing = 4

// maxPorts bounds the ports one filter tests: a classic BPF jump goes at
// most 255 instructions forward.
const maxPorts = 50

// filter returns the program that keeps the outgoing TCP and UDP packets
// of ports, on an Ethernet link (loopback's). With no port, it keeps
// nothing.
func filter(ports []uint16) ([]bpf.Instruction, error) {
	if len(ports) > maxPorts {
		return nil, fmt.Errorf("%d ports to watch: at most %d", len(ports), maxPorts)
	}
	if len(ports) == 0 {
		return []bpf.Instruction{bpf.RetConstant{Val: 0}}, nil
	}
	outgoing := []item{
		{ins: bpf.LoadExtension{Num: bpf.ExtType}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing}, jf: "drop"},
	}
	return assemble(append(outgoing, portFilter(ports)...))
}

// portFilter is the filter less its test of direction, which only the
// kernel can run (the ancillary load): tested against tcpdump's program
// for the same ports in x/net/bpf's virtual machine.
func portFilter(ports []uint16) []item {
	portTests := func(offset uint32, indirect bool) []item {
		var load bpf.Instruction = bpf.LoadAbsolute{Off: offset, Size: 2}
		if indirect {
			load = bpf.LoadIndirect{Off: offset, Size: 2}
		}
		items := []item{{ins: load}}
		for _, p := range ports {
			items = append(items, item{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(p)}, jt: "accept"})
		}
		return items
	}
	const (
		ethernetHeader = 14
		ipv4Proto      = ethernetHeader + 9
		ipv4Fragment   = ethernetHeader + 6
		ipv6Next       = ethernetHeader + 6
		ipv6Header     = ethernetHeader + 40
	)
	p := []item{
		{ins: bpf.LoadAbsolute{Off: 12, Size: 2}}, // the EtherType
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x0800}, jt: "ipv4"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 0x86dd}, jt: "ipv6", jf: "drop"},

		{label: "ipv4", ins: bpf.LoadAbsolute{Off: ipv4Proto, Size: 1}},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6}, jt: "ipv4 ports"},
		{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17}, jf: "drop"},
		// A fragment after the first has no ports where they would be.
		{label: "ipv4 ports", ins: bpf.LoadAbsolute{Off: ipv4Fragment, Size: 2}},
		{ins: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: 0x1fff}, jt: "drop"},
		{ins: bpf.LoadMemShift{Off: ethernetHeader}}, // X = the IPv4 header's length
	}
	p = append(p, portTests(ethernetHeader, true)...)
	p = append(p, portTests(ethernetHeader+2, true)...)
	p = append(p,
		item{ins: bpf.Jump{}, jt: "drop"},
		// An IPv6 packet whose next header is TCP or UDP: the lessons
		// send no extension headers.
		item{label: "ipv6", ins: bpf.LoadAbsolute{Off: ipv6Next, Size: 1}},
		item{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 6}, jt: "ipv6 ports"},
		item{ins: bpf.JumpIf{Cond: bpf.JumpEqual, Val: 17}, jf: "drop"},
	)
	tests := portTests(ipv6Header, false)
	tests[0].label = "ipv6 ports"
	p = append(p, tests...)
	p = append(p, portTests(ipv6Header+2, false)...)
	return append(p,
		item{label: "drop", ins: bpf.RetConstant{Val: 0}},
		item{label: "accept", ins: bpf.RetConstant{Val: snapLength}},
	)
}

// An item is one instruction of a program being assembled, with the
// labels its jumps go to ("" is the next instruction).
type item struct {
	label  string
	ins    bpf.Instruction
	jt, jf string
}

// assemble resolves the items' labels into a program's forward jumps.
func assemble(items []item) ([]bpf.Instruction, error) {
	at := map[string]int{}
	for i, it := range items {
		if it.label != "" {
			at[it.label] = i
		}
	}
	skip := func(from int, label string) (uint8, error) {
		if label == "" {
			return 0, nil
		}
		to, ok := at[label]
		if !ok || to <= from || to-from-1 > 255 {
			return 0, fmt.Errorf("bpf: no jump from %d to %q", from, label)
		}
		return uint8(to - from - 1), nil
	}
	prog := make([]bpf.Instruction, len(items))
	for i, it := range items {
		jt, err := skip(i, it.jt)
		if err != nil {
			return nil, err
		}
		jf, err := skip(i, it.jf)
		if err != nil {
			return nil, err
		}
		switch ins := it.ins.(type) {
		case bpf.JumpIf:
			ins.SkipTrue, ins.SkipFalse = jt, jf
			prog[i] = ins
		case bpf.Jump:
			prog[i] = bpf.Jump{Skip: uint32(jt)}
		default:
			prog[i] = ins
		}
	}
	return prog, nil
}
