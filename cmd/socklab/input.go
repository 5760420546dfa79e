package main

import "github.com/socklab/socklab/internal/lineread"

// lineReader reads the texts a peer sends and the Enter of a step
// (lineread.Reader).
type lineReader = lineread.Reader

var newLineReader = lineread.New
