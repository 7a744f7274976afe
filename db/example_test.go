package db_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/db/dbtest"
)

// ExampleOpen opens a store, stores a CA and a certificate it issued, and
// answers the OCSP question "what is the status of serial S of issuer I?".
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "certstatus-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := db.Open(dir, nil) // nil: default options
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()

	// Real certificates, built by the test fixtures.
	root := dbtest.RootCA("Example Root CA")
	leaf := dbtest.Leaf(root, 0x1001)
	leaf.CustomIdentifier = "order-1001"
	if err := s.PutCA(ctx, root.CA); err != nil {
		log.Fatal(err)
	}
	if err := s.Put(ctx, leaf); err != nil {
		log.Fatal(err)
	}

	r, err := s.Lookup(ctx, root.CA.Identifier, "1001")
	if err != nil {
		log.Fatal(err)
	}
	a, err := r.StatusAt(time.Now())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Kind, r.Serial, r.CustomIdentifier, a.Status)

	if _, err := s.Revoke(ctx, leaf.Identifier, certs.KeyCompromise, time.Now()); err != nil {
		log.Fatal(err)
	}
	r, _ = s.Lookup(ctx, root.CA.Identifier, "1001")
	if a, err = r.StatusAt(time.Now()); err != nil {
		log.Fatal(err)
	}
	fmt.Println(a.Status, a.Reason)

	_, err = s.Lookup(ctx, root.CA.Identifier, "2002")
	fmt.Println(errors.Is(err, certs.ErrNotFound))
	// Output:
	// CLIENT 1001 order-1001 good
	// revoked keyCompromise
	// true
}
