package wire

import (
	"net/netip"
	"strings"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"

	"github.com/socklab/socklab/trace"
)

// A decoder turns captured frames (Ethernet, as loopback gives them) into
// packets, keeping for each direction of each connection what makes its
// numbers readable: the first sequence number it sent, and the window
// scale its SYN announced.
//
// It decodes with gopacket's DecodingLayerParser, which reuses its layers
// from one frame to the next: no allocation per packet but the result.
type decoder struct {
	parser  *gopacket.DecodingLayerParser
	eth     layers.Ethernet
	ip4     layers.IPv4
	ip6     layers.IPv6
	tcp     layers.TCP
	udp     layers.UDP
	payload gopacket.Payload
	decoded []gopacket.LayerType
	// halves holds each direction seen, by its source and destination.
	halves map[direction]*half
}

// A direction is one way of a connection.
type direction struct{ from, to netip.AddrPort }

// A half is what a decoder knows of one direction.
type half struct {
	isn    uint32 // its first sequence number: a SYN's, or the first seen
	wscale int    // the window scale its SYN announced, or -1
	synced bool   // its SYN was seen, so wscale is known
}

func newDecoder() *decoder {
	d := &decoder{halves: map[direction]*half{}}
	d.parser = gopacket.NewDecodingLayerParser(layers.LayerTypeEthernet, &d.eth, &d.ip4, &d.ip6, &d.tcp, &d.udp, &d.payload)
	d.parser.IgnoreUnsupported = true
	return d
}

// decode returns the packet a frame carried and its payload (which aliases
// frame), or ok false for a frame that is neither TCP nor UDP over IP.
func (d *decoder) decode(frame []byte) (p trace.Packet, payload []byte, ok bool) {
	if err := d.parser.DecodeLayers(frame, &d.decoded); err != nil {
		return p, nil, false
	}
	var src, dst netip.Addr
	var transport gopacket.LayerType
	for _, t := range d.decoded {
		switch t {
		case layers.LayerTypeIPv4:
			src, _ = netip.AddrFromSlice(d.ip4.SrcIP.To4())
			dst, _ = netip.AddrFromSlice(d.ip4.DstIP.To4())
		case layers.LayerTypeIPv6:
			src, _ = netip.AddrFromSlice(d.ip6.SrcIP)
			dst, _ = netip.AddrFromSlice(d.ip6.DstIP)
		case layers.LayerTypeTCP, layers.LayerTypeUDP:
			transport = t
		}
	}
	if !src.IsValid() || !dst.IsValid() {
		return p, nil, false
	}
	switch transport {
	case layers.LayerTypeUDP:
		from, to := netip.AddrPortFrom(src, uint16(d.udp.SrcPort)), netip.AddrPortFrom(dst, uint16(d.udp.DstPort))
		return trace.Packet{Proto: "udp", From: from.String(), To: to.String(), MSS: -1, WScale: -1}, d.udp.Payload, true
	case layers.LayerTypeTCP:
		from, to := netip.AddrPortFrom(src, uint16(d.tcp.SrcPort)), netip.AddrPortFrom(dst, uint16(d.tcp.DstPort))
		return d.segment(from, to), d.tcp.Payload, true
	}
	return p, nil, false
}

// segment describes the TCP segment just decoded, from → to.
func (d *decoder) segment(from, to netip.AddrPort) trace.Packet {
	t := &d.tcp
	p := trace.Packet{Proto: "tcp", From: from.String(), To: to.String(), Flags: flags(t), MSS: -1, WScale: -1}
	for _, o := range t.Options {
		switch o.OptionType {
		case layers.TCPOptionKindMSS:
			if len(o.OptionData) == 2 {
				p.MSS = int(o.OptionData[0])<<8 | int(o.OptionData[1])
			}
		case layers.TCPOptionKindWindowScale:
			if len(o.OptionData) == 1 {
				p.WScale = int(o.OptionData[0])
			}
		case layers.TCPOptionKindSACKPermitted:
			p.SACK = true
		}
	}
	out, seen := d.halves[direction{from, to}]
	if t.SYN || !seen {
		// A SYN starts a connection over, even on addresses seen before
		// (a port the kernel gave again after TIME_WAIT); a direction
		// first seen mid-connection counts from its first segment.
		out = &half{isn: t.Seq, wscale: -1, synced: t.SYN}
		if t.SYN {
			out.wscale = p.WScale
		}
		d.halves[direction{from, to}] = out
	}
	back := d.halves[direction{to, from}]
	p.Seq = t.Seq - out.isn
	if t.ACK && back != nil {
		p.Ack = t.Ack - back.isn
	}
	// The window of a SYN is never scaled; after the handshake, scaling
	// holds only if both SYNs announced it (RFC 7323, 2.2).
	p.Window = int(t.Window)
	if !t.SYN && out.synced && back != nil && back.synced && out.wscale >= 0 && back.wscale >= 0 {
		p.Window <<= out.wscale
	}
	return p
}

// flags names a segment's flags as a class names them: SYN, SYN-ACK,
// PSH-ACK, FIN-ACK, RST, RST-ACK; ECE and CWR (ECN) when set.
func flags(t *layers.TCP) string {
	var names []string
	for _, f := range []struct {
		on   bool
		name string
	}{{t.SYN, "SYN"}, {t.FIN, "FIN"}, {t.RST, "RST"}, {t.PSH, "PSH"}, {t.URG, "URG"}, {t.ACK, "ACK"}, {t.ECE, "ECE"}, {t.CWR, "CWR"}} {
		if f.on {
			names = append(names, f.name)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "-")
}
