package api

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// A write the store could not make durable is 503
// ServiceUnavailable.StorageWriteFailed with the cause as the system names
// it and never the file's path; a value that cannot be read is left to
// InternalError, whatever else its error says.
func TestDomainError_Storage(t *testing.T) {
	err := fmt.Errorf("ca: issue: %w", fmt.Errorf("db: the write could not be made durable: %w: %w", certs.ErrStorage,
		fmt.Errorf("write /var/lib/certstatus/certstatus.db: %w", syscall.ENOSPC)))
	ae := domainError(err, "ParentIdentifier")
	if ae == nil || ae.Status != 503 || ae.Code != "ServiceUnavailable.StorageWriteFailed" {
		t.Fatalf("domainError = %+v", ae)
	}
	if !strings.Contains(ae.Message, "no space left on device") || strings.Contains(ae.Message, "/var/lib") {
		t.Errorf("message %q: want the cause, not the path", ae.Message)
	}
	if r := recommend(ae.Code); !strings.Contains(r, "Retry later") {
		t.Errorf("recommend = %q", r)
	}
	broken := fmt.Errorf("db: the database engine failed inside a write (boom): %w", certs.ErrStorage)
	if ae := domainError(broken, ""); ae == nil || ae.Status != 503 || !strings.Contains(ae.Message, "could not be written") {
		t.Errorf("engine failure: %+v", ae)
	}
	corrupt := errors.Join(fmt.Errorf("db: certs x is corrupt: %w", certs.ErrCorrupt), certs.ErrNotFound)
	if ae := domainError(corrupt, "Identifier"); ae != nil {
		t.Errorf("a corrupt value: %+v, want InternalError (nil here)", ae)
	}
}
