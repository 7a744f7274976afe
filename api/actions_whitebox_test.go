package api

import (
	"strings"
	"testing"
)

// TestActions_ChangesMarked: every action that changes state (all but the
// Describe*, List* and Get* reads) keeps its nonce in the store, and so
// does the private-key export, which appends to the audit trail.
func TestActions_ChangesMarked(t *testing.T) {
	for name, a := range actions {
		read := strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Get")
		if name == "DescribeCertificatePrivateKey" {
			read = false
		}
		if a.changes == read {
			t.Errorf("%s: changes %v, want %v", name, a.changes, !read)
		}
	}
}
