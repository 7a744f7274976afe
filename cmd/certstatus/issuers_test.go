package main

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// TestIssuers_ReadOnly: loading the OCSP issuers — what a request naming
// an unknown issuer makes the responder do — writes nothing and signs
// nothing: a CA without a delegated responder is left out until
// ensureResponders, the write side, issues one. (It used to issue and
// store the responder certificate from inside the load, so any
// unauthenticated request could cause a CA signature and an fsync.)
func TestIssuers_ReadOnly(t *testing.T) {
	c, err := defaultConfig(true)
	if err != nil {
		t.Fatal(err)
	}
	c.Data = filepath.Join(t.TempDir(), "d")
	c.MasterKeyFile = filepath.Join(c.Data, "master.key")
	svc, err := open(c, slog.New(slog.NewTextHandler(io.Discard, nil)), true, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	ctx := certs.WithActor(context.Background(), certs.Actor{Who: "test"})
	root, err := svc.ca.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "R", Organization: "O", Country: "US"}, Algorithm: certs.ECC256, Validity: certs.Validity{Years: 2}})
	if err != nil {
		t.Fatal(err)
	}
	o := ocspSettingsOf(c)
	before := svc.store.Stats().Writes
	list, err := svc.issuers(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if n := svc.store.Stats().Writes - before; n != 0 {
		t.Fatalf("loading the issuers made %d writes", n)
	}
	if len(list) != 0 {
		t.Fatalf("a CA without a responder certificate was loaded: %v", list)
	}
	if err := svc.ensureResponders(ctx, o); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.store.Responder(ctx, root.Identifier); err != nil {
		t.Fatalf("ensureResponders stored no responder: %v", err)
	}
	before = svc.store.Stats().Writes
	if list, err = svc.issuers(ctx, o); err != nil || len(list) != 1 || list[0].SignerCert == nil {
		t.Fatalf("issuers after ensureResponders = %v, %v", list, err)
	}
	if err := svc.ensureResponders(ctx, o); err != nil {
		t.Fatal(err)
	}
	if n := svc.store.Stats().Writes - before; n != 0 {
		t.Fatalf("a second ensureResponders with a fresh responder made %d writes", n)
	}
}
