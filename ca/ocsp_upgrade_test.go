package ca_test

import (
	"bytes"
	"context"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
)

// withoutCerts is a successful answer with its BasicOCSPResponse's certs
// left out: a CA-signed answer as certstatus stored it before it included
// the CA's certificate (the signature does not cover certs).
func withoutCerts(t *testing.T, der []byte) []byte {
	t.Helper()
	in := cryptobyte.String(der)
	var resp, rb, octets, basic, tbs, alg, sig cryptobyte.String
	var status, oid []byte
	explicit0 := cbasn1.Tag(0).Constructed().ContextSpecific()
	if !in.ReadASN1(&resp, cbasn1.SEQUENCE) || !resp.ReadASN1Bytes(&status, cbasn1.ENUM) ||
		!resp.ReadASN1(&rb, explicit0) || !rb.ReadASN1(&rb, cbasn1.SEQUENCE) || !rb.ReadASN1Bytes(&oid, cbasn1.OBJECT_IDENTIFIER) ||
		!rb.ReadASN1(&octets, cbasn1.OCTET_STRING) || !octets.ReadASN1(&basic, cbasn1.SEQUENCE) ||
		!basic.ReadASN1Element(&tbs, cbasn1.SEQUENCE) || !basic.ReadASN1Element(&alg, cbasn1.SEQUENCE) ||
		!basic.ReadASN1Element(&sig, cbasn1.BIT_STRING) || basic.Empty() {
		t.Fatalf("not a successful answer with certs: %x", der)
	}
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.ENUM, func(b *cryptobyte.Builder) { b.AddBytes(status) })
		b.AddASN1(explicit0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.OBJECT_IDENTIFIER, func(b *cryptobyte.Builder) { b.AddBytes(oid) })
				b.AddASN1(cbasn1.OCTET_STRING, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(tbs); b.AddBytes(alg); b.AddBytes(sig) })
				})
			})
		})
	})
	return b.BytesOrPanic()
}

// A CA-signed answer stored before certstatus included the CA's
// certificate is re-signed by the start pass, however young, with the
// certificate included (Apache refused it); the refresh after that leaves
// answers alone.
func TestOCSP_StartPassAddsTheCACertificate(t *testing.T) {
	auth, store, _, sub := newOCSPAuthority(t, ca.OCSPOptions{SignWithCA: true})
	ctx := context.Background()
	rec := issueOne(t, auth, sub)
	_, o := storedStatus(t, store, sub, rec)
	o.DER = withoutCerts(t, o.DER)
	if _, err := store.PutOCSPResponses(ctx, o); err != nil {
		t.Fatal(err)
	}
	if resp, _ := storedStatus(t, store, sub, rec); resp.Certificate != nil {
		t.Fatal("the old answer still carries a certificate")
	}
	if n, err := auth.RefreshOCSPAll(ctx); n != 1 || err != nil {
		t.Fatalf("start pass = %d, %v; want the old answer re-signed", n, err)
	}
	subCert, _ := sub.Certificate()
	resp, o2 := storedStatus(t, store, sub, rec)
	if resp.Certificate == nil || !resp.Certificate.Equal(subCert) || bytes.Equal(o2.DER, o.DER) {
		t.Error("the re-signed answer does not carry the CA's certificate")
	}
	if resp.Status != 0 || o2.Status != certs.Good {
		t.Errorf("re-signed as %v / %v, want good", resp.Status, o2.Status)
	}
	if n, err := auth.RefreshOCSPAll(ctx); n != 0 || err != nil {
		t.Errorf("a second start pass = %d, %v; want none", n, err)
	}
}
