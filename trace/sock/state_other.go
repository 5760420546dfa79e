//go:build !(linux || darwin)

package sock

func sysTCPState(int) (string, bool)    { return "", false }
func sysTCPTable() ([]tableEntry, bool) { return nil, false }
