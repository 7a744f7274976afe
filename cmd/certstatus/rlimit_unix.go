//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// raiseNOFILE raises the soft RLIMIT_NOFILE to the hard limit and returns
// both, and the soft limit it raised from (0 when it was already there).
// Go's runtime raises it at start too, but to one below the hard limit
// and silently; serve does it explicitly, and logs it.
func raiseNOFILE() (soft, hard, raisedFrom uint64, err error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, 0, 0, fmt.Errorf("RLIMIT_NOFILE: %w", err)
	}
	if lim.Cur < lim.Max {
		raised := lim
		raised.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &raised); err == nil {
			return uint64(raised.Cur), uint64(lim.Max), uint64(lim.Cur), nil
		}
		// Some systems (macOS) refuse an unlimited hard limit: keep
		// the soft one.
	}
	return uint64(lim.Cur), uint64(lim.Max), 0, nil
}
