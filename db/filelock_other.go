//go:build !unix

package db

import (
	"os"
	"time"
)

// lockFile opens path; without flock the structural walk relies on bbolt's
// own lock, taken right after it.
func lockFile(path string, _ bool, _ time.Duration) (*os.File, error) { return os.Open(path) }
