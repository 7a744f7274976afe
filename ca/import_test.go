package ca_test

import (
	"context"
	"errors"
	"testing"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
)

// TestImportCA moves a chain from one certstatus (a stand-in for any
// existing CA) into another: keyless root, then the sub CA with its key.
func TestImportCA(t *testing.T) {
	src := newFixture(t)
	dst, err := db.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	auth, _ := ca.New(dst, newSealer(t), nil)
	ctx := context.Background()
	subKey, err := src.auth.CASigner(ctx, src.sub.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := auth.ImportCA(ctx, src.sub.DER, subKey); !errors.Is(err, certs.ErrNotFound) {
		t.Fatalf("sub before its root: %v", err)
	}
	root, created, err := auth.ImportCA(ctx, src.root.DER, nil)
	if err != nil || !created || root.Kind != certs.KindRootCA || len(root.SealedKey) != 0 {
		t.Fatalf("root: %+v %v %v", root, created, err)
	}
	rootKey, _ := src.auth.CASigner(ctx, src.root.Identifier)
	if _, _, err := auth.ImportCA(ctx, src.sub.DER, rootKey); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("sub with the root's key: %v", err)
	}
	sub, created, err := auth.ImportCA(ctx, src.sub.DER, subKey)
	if err != nil || !created || sub.Kind != certs.KindSubCA || sub.Parent != root.Identifier || sub.Identifier != src.sub.Identifier {
		t.Fatalf("sub: %+v %v %v", sub, created, err)
	}
	if _, created, err := auth.ImportCA(ctx, src.sub.DER, nil); created || err != nil {
		t.Errorf("importing again: created=%v err=%v", created, err)
	}
	if _, _, err := auth.ImportCA(ctx, src.root.DER, rootKey); !errors.Is(err, certs.ErrExists) {
		t.Errorf("adding a key later: %v", err)
	}
	leaf := src.issue(t, certs.IssueRequest{Kind: certs.KindClient, Subject: certs.Subject{CommonName: "x"}})
	if _, _, err := auth.ImportCA(ctx, leaf.Record.DER, nil); !errors.Is(err, certs.ErrInvalid) {
		t.Errorf("a leaf as CA: %v", err)
	}
	// The imported sub CA can issue with its imported key.
	if _, err := auth.Issue(ctx, certs.IssueRequest{Issuer: sub.Identifier, Kind: certs.KindClient, Subject: certs.Subject{CommonName: "after import"}, Validity: certs.Validity{Days: 1}}); err != nil {
		t.Errorf("issue from the imported sub CA: %v", err)
	}
	// The keyless root cannot sign.
	if _, err := auth.UpdateCRL(ctx, root.Identifier, ca.CRLPolicy{}); err == nil {
		t.Error("a keyless CA signed a CRL")
	}
}
