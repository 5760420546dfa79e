//go:build !(linux || darwin)

package kernelview

func sysTCPState(int) (string, bool) { return "", false }
func sysOpenTCPTable(bool) tcpTable  { return nil }

func sysDelivery(int) (string, int, bool) { return "", 0, false }
