package ca_test

import (
	"context"
	"testing"

	"github.com/certstatus/certstatus/certs"
)

// FuzzParseSAN: any string either becomes exactly one SAN or is refused;
// never a panic.
func FuzzParseSAN(f *testing.F) {
	for _, seed := range []string{
		"example.com", "*.example.com", "10.0.0.1", "2001:db8::1", "a@b.example", "spiffe://td/ns/x",
		"urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "", " ", "a..b", "-a.b", "xn--bcher-kva.example",
		"Alice <a@b.c>", "http://", "é.example",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var sans certs.SANs
		if err := sans.ParseSAN(s); err != nil {
			return
		}
		if n := len(sans.DNSNames) + len(sans.IPs) + len(sans.Emails) + len(sans.URIs); n != 1 {
			t.Fatalf("ParseSAN(%q) made %d SANs", s, n)
		}
	})
}

// FuzzIssueCSR: arbitrary CSR bytes are refused with an error or issued;
// never a panic and never a stored certificate on error.
func FuzzIssueCSR(f *testing.F) {
	fx := newFixture(f)
	f.Add([]byte("-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, csr []byte) {
		ctx := context.Background()
		before, _ := fx.store.Count(ctx, dbFilterAll)
		_, err := fx.auth.Issue(ctx, certs.IssueRequest{Issuer: fx.sub.Identifier, Kind: certs.KindClient, CSR: csr, Validity: certs.Validity{Days: 1}})
		after, _ := fx.store.Count(ctx, dbFilterAll)
		if err != nil && after != before {
			t.Fatalf("failed issuance stored a certificate: %v", err)
		}
	})
}
