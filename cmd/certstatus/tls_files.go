package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"time"
)

// apiTLSFileCheck is how often the operator's certificate and key files
// are checked for a change (by size and modification time).
const apiTLSFileCheck = 2 * time.Second

// fileStamp is what a change of a file is recognised by.
type fileStamp struct {
	size, modTime int64 // modTime in Unix nanoseconds
	missing       bool
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{missing: true}
	}
	return fileStamp{size: fi.Size(), modTime: fi.ModTime().UnixNano()}
}

// fileCert serves the operator's PEM certificate (its chain may follow it
// in the same file) and key, re-read when either file changes. A new pair
// that does not load, does not match or is not valid now is reported once
// and the old one kept; the next change is tried again (so writing the
// certificate, then the key, ends with the new pair).
type fileCert struct {
	certFile, keyFile string
	log               *slog.Logger
	// seen are the stamps of the files last tried.
	seen [2]fileStamp
}

func (f *fileCert) describe() string {
	return fmt.Sprintf("files %s and %s", f.certFile, f.keyFile)
}

func (f *fileCert) load(_ context.Context, cur *tls.Certificate, now time.Time) (*tls.Certificate, error) {
	st := [2]fileStamp{stampOf(f.certFile), stampOf(f.keyFile)}
	if cur != nil && st == f.seen {
		return nil, nil
	}
	f.seen = st
	c, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		return nil, err
	}
	if now.Before(c.Leaf.NotBefore) || !now.Before(c.Leaf.NotAfter) {
		return nil, fmt.Errorf("%s: the certificate is valid from %s to %s, not now", f.certFile,
			c.Leaf.NotBefore.UTC().Format(time.RFC3339), c.Leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	f.log.Info("API TLS: loaded the certificate and key", "cert", f.certFile, "key", f.keyFile, "serial", c.Leaf.SerialNumber.Text(16), "subject", c.Leaf.Subject.String(), "not_after", c.Leaf.NotAfter)
	return &c, nil
}
