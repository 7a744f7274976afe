//go:build unix

package db

import (
	"os"
	"syscall"
	"time"

	berrors "go.etcd.io/bbolt/errors"
)

// lockFile takes the lock bbolt takes on path (flock, exclusive or shared)
// on a descriptor of its own, waiting up to timeout, so that the
// structural walk never reads a file another process is writing. Closing
// the returned file releases it; bbolt then takes its own.
func lockFile(path string, exclusive bool, timeout time.Duration) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != syscall.EWOULDBLOCK || time.Now().After(deadline) {
			f.Close()
			if err == syscall.EWOULDBLOCK {
				return nil, berrors.ErrTimeout
			}
			return nil, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}
