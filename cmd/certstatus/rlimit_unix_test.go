//go:build unix

package main

import (
	"syscall"
	"testing"
)

// raiseNOFILE leaves the soft limit at the hard one (Go's runtime stops
// one short of it).
func TestRaiseNOFILE(t *testing.T) {
	soft, hard, _, err := raiseNOFILE()
	if err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if soft != hard || uint64(lim.Cur) != soft || uint64(lim.Max) != hard {
		t.Errorf("raiseNOFILE = %d, %d; the process has %d, %d", soft, hard, lim.Cur, lim.Max)
	}
}
