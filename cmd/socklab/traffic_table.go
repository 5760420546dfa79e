package main

import (
	"io"
	"strconv"
	"strings"

	"github.com/socklab/socklab/lessons"
	"github.com/socklab/socklab/trace"
	"github.com/socklab/socklab/trace/i18n"
)

// writeTrafficTable shows the traffic a run of lesson made
// (lessons.TrafficTable): the bytes its calls wrote, counted from its
// events, and, with --wire, the packets that carried them, as an aligned
// table in l: one row per kind of traffic, numbers right-aligned, widths
// counted in terminal columns so that Chinese stays aligned, and the
// lesson's note under it.
func writeTrafficTable(w io.Writer, l i18n.Lang, lesson string, t lessons.TrafficTable) error {
	head := []string{l.T("wire.col.what"), l.T("wire.col.messages"), l.T("wire.col.payload"), l.T("wire.col.wire"), l.T("wire.col.overhead"), l.T("wire.col.connections")}
	title := "wire.title"
	if t.Packets {
		head = append(head, l.T("wire.col.packets"), l.T("wire.col.packet_bytes"))
		title = "wire.title.packets"
	}
	rows := [][]string{head}
	for _, r := range t.Rows {
		overhead := "–"
		if r.Messages > 0 {
			overhead = strconv.Itoa(r.Overhead())
		}
		row := []string{l.T(r.What), strconv.Itoa(r.Messages), strconv.Itoa(r.Payload), strconv.Itoa(r.Written), overhead, strconv.Itoa(r.Connections)}
		if t.Packets {
			row = append(row, strconv.Itoa(r.Packets), strconv.Itoa(r.PacketBytes))
		}
		rows = append(rows, row)
	}
	widths := make([]int, len(rows[0]))
	for _, row := range rows {
		for i, cell := range row {
			widths[i] = max(widths[i], trace.Width(cell))
		}
	}
	var b strings.Builder
	b.WriteString("\n" + l.T(title) + "\n")
	for _, row := range rows {
		for i, cell := range row {
			pad := strings.Repeat(" ", widths[i]-trace.Width(cell))
			if i == 0 {
				b.WriteString(cell + pad)
			} else {
				b.WriteString("  " + pad + cell)
			}
		}
		b.WriteString("\n")
	}
	if key := "wire.note." + lesson; l.Has(key) {
		b.WriteString(l.T(key) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
