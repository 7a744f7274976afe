package ocspsign_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"testing"
	"time"

	"github.com/certstatus/certstatus/internal/ocspsign"
)

func TestPolicy_Resolve(t *testing.T) {
	const h = time.Hour
	ok := []struct {
		name     string
		in, want ocspsign.Policy
	}{
		{"zero/defaults", ocspsign.Policy{}, ocspsign.Policy{Validity: 24 * h, RefreshAfter: 8 * h}},
		{"byName kept", ocspsign.Policy{ByName: true}, ocspsign.Policy{Validity: 24 * h, RefreshAfter: 8 * h, ByName: true}},
		{"validity/min", ocspsign.Policy{Validity: 8 * h}, ocspsign.Policy{Validity: 8 * h, RefreshAfter: 8 * h / 3}},
		{"validity/max", ocspsign.Policy{Validity: 7 * 24 * h}, ocspsign.Policy{Validity: 7 * 24 * h, RefreshAfter: 56 * h}},
		{"refresh/min", ocspsign.Policy{RefreshAfter: time.Minute}, ocspsign.Policy{Validity: 24 * h, RefreshAfter: time.Minute}},
		{"refresh/half", ocspsign.Policy{Validity: 10 * h, RefreshAfter: 5 * h}, ocspsign.Policy{Validity: 10 * h, RefreshAfter: 5 * h}},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.in.Resolve()
			if err != nil || got != c.want {
				t.Fatalf("Resolve(%+v) = %+v, %v; want %+v", c.in, got, err, c.want)
			}
			if again, err := got.Resolve(); err != nil || again != got {
				t.Errorf("Resolve is not idempotent: %+v, %v", again, err)
			}
		})
	}
	bad := []struct {
		name string
		in   ocspsign.Policy
	}{
		{"validity/under 8h", ocspsign.Policy{Validity: 8*h - time.Second}},
		{"validity/over 7d", ocspsign.Policy{Validity: 7*24*h + time.Second}},
		{"validity/negative", ocspsign.Policy{Validity: -24 * h}},
		{"refresh/under a minute", ocspsign.Policy{RefreshAfter: time.Minute - time.Second}},
		{"refresh/past half", ocspsign.Policy{Validity: 10 * h, RefreshAfter: 5*h + time.Second}},
		{"refresh/negative", ocspsign.Policy{RefreshAfter: -h}},
	}
	for _, c := range bad {
		t.Run("error/"+c.name, func(t *testing.T) {
			if got, err := c.in.Resolve(); err == nil {
				t.Errorf("Resolve(%+v) = %+v, no error", c.in, got)
			}
		})
	}
	if ocspsign.MinValidity != 8*h || ocspsign.MaxValidity != 7*24*h {
		t.Errorf("bounds %v..%v", ocspsign.MinValidity, ocspsign.MaxValidity)
	}
}

func TestCurrent(t *testing.T) {
	now := time.Now()
	cases := []struct {
		name       string
		this, next time.Time
		want       bool
	}{
		{"fresh", now.Add(-time.Hour), now.Add(time.Hour), true},
		{"at nextUpdate", now.Add(-time.Hour), now, false},
		{"past nextUpdate", now.Add(-2 * time.Hour), now.Add(-time.Hour), false},
		{"dated 5m ahead (skew)", now.Add(5 * time.Minute), now.Add(time.Hour), true},
		{"dated more than 5m ahead", now.Add(5*time.Minute + time.Second), now.Add(time.Hour), false},
	}
	for _, c := range cases {
		if got := ocspsign.Current(c.this, c.next, now); got != c.want {
			t.Errorf("%s: Current = %v, want %v", c.name, got, c.want)
		}
	}
}

// Window dates an answer at now in whole seconds UTC, valid for the
// policy's validity, and never past the signer's notAfter: the delegated
// responder's when one signs, else the CA's.
func TestSigner_Window(t *testing.T) {
	k := keyKinds[0]
	caKey, respKey := key(t, k, "ca"), key(t, k, "responder")
	zone := time.FixedZone("UTC-3:30", -(3*3600 + 1800))
	now := time.Now().In(zone).Add(987654321 * time.Nanosecond)
	this := now.UTC().Truncate(time.Second)
	year := time.Now().Add(365 * 24 * time.Hour)
	soon := time.Now().Add(3 * time.Hour)
	longCA := newCA(t, "Window CA", caKey, year)
	shortCA := newCA(t, "Window CA", caKey, soon)
	cases := []struct {
		name   string
		is     func() (issuerNotAfter time.Time, s *ocspsign.Signer)
		policy ocspsign.Policy
	}{
		{"ca/default validity", func() (time.Time, *ocspsign.Signer) {
			return year, mustSigner(t, caIssuer(longCA, caKey), ocspsign.Policy{})
		}, ocspsign.Policy{}},
		{"ca/8h", func() (time.Time, *ocspsign.Signer) {
			return year, mustSigner(t, caIssuer(longCA, caKey), ocspsign.Policy{Validity: 8 * time.Hour})
		}, ocspsign.Policy{Validity: 8 * time.Hour}},
		{"ca/capped at the CA's notAfter", func() (time.Time, *ocspsign.Signer) {
			return soon, mustSigner(t, caIssuer(shortCA, caKey), ocspsign.Policy{})
		}, ocspsign.Policy{}},
		{"delegated/7d", func() (time.Time, *ocspsign.Signer) {
			r := newResponder(t, longCA, caKey, "R", respKey, year)
			return year, mustSigner(t, delegatedIssuer(longCA, r, respKey), ocspsign.Policy{Validity: 7 * 24 * time.Hour})
		}, ocspsign.Policy{Validity: 7 * 24 * time.Hour}},
		{"delegated/capped at the responder's notAfter", func() (time.Time, *ocspsign.Signer) {
			r := newResponder(t, longCA, caKey, "R", respKey, soon)
			return soon, mustSigner(t, delegatedIssuer(longCA, r, respKey), ocspsign.Policy{})
		}, ocspsign.Policy{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			notAfter, s := c.is()
			p, _ := c.policy.Resolve()
			want := this.Add(p.Validity)
			if limit := notAfter.UTC().Truncate(time.Second); want.After(limit) {
				want = limit
			}
			if !s.NotAfter().Equal(notAfter.Truncate(time.Second)) {
				t.Errorf("NotAfter %v, want %v", s.NotAfter(), notAfter)
			}
			gotThis, gotNext := s.Window(now)
			if !gotThis.Equal(this) || !gotNext.Equal(want) {
				t.Errorf("Window = %v..%v, want %v..%v", gotThis, gotNext, this, want)
			}
			for _, tm := range []time.Time{gotThis, gotNext} {
				if tm.Location() != time.UTC || tm.Nanosecond() != 0 {
					t.Errorf("%v: not whole seconds UTC", tm)
				}
			}
		})
	}
}

func caIssuer(ca *x509.Certificate, key crypto.Signer) ocspsign.Issuer {
	return ocspsign.Issuer{ID: idOf(ca), Cert: ca, Signer: key}
}

func delegatedIssuer(ca, resp *x509.Certificate, key crypto.Signer) ocspsign.Issuer {
	return ocspsign.Issuer{ID: idOf(ca), Cert: ca, Signer: key, SignerCert: resp}
}

func TestHashOf(t *testing.T) {
	cases := []struct {
		oid  asn1.ObjectIdentifier
		want crypto.Hash
		ok   bool
	}{
		{asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}, crypto.SHA1, true},
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}, crypto.SHA256, true},
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, crypto.SHA384, true},
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}, crypto.SHA512, true},
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}, 0, false},    // SHA-224
		{asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}, 0, false},           // MD5
		{asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1, 0}, 0, false}, // SHA-256 with an arc more
		{nil, 0, false},
	}
	for _, c := range cases {
		if h, ok := ocspsign.HashOf(c.oid); h != c.want || ok != c.ok {
			t.Errorf("HashOf(%v) = %v, %v; want %v, %v", c.oid, h, ok, c.want, c.ok)
		}
	}
}

// New refuses an issuer it cannot sign for truthfully.
func TestNew_Errors(t *testing.T) {
	p := newPKI(t, keyKinds[0])
	other := newPKI(t, keyKinds[1])
	p224, err := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224CA := newCA(t, "P-224 CA", p224, time.Now().Add(time.Hour))
	cases := []struct {
		name   string
		is     ocspsign.Issuer
		policy ocspsign.Policy
	}{
		{"no certificate", ocspsign.Issuer{ID: p.caSigned.ID, Signer: p.caKey}, ocspsign.Policy{}},
		{"no signer", ocspsign.Issuer{ID: p.caSigned.ID, Cert: p.ca}, ocspsign.Policy{}},
		{"ca/another key", ocspsign.Issuer{ID: p.caSigned.ID, Cert: p.ca, Signer: other.caKey}, ocspsign.Policy{}},
		{"ca/the responder's key", ocspsign.Issuer{ID: p.caSigned.ID, Cert: p.ca, Signer: p.respKey}, ocspsign.Policy{}},
		{"delegated/the CA's key", ocspsign.Issuer{ID: p.caSigned.ID, Cert: p.ca, Signer: p.caKey, SignerCert: p.resp}, ocspsign.Policy{}},
		{"delegated/another responder's key", ocspsign.Issuer{ID: p.caSigned.ID, Cert: p.ca, Signer: other.respKey, SignerCert: p.resp}, ocspsign.Policy{}},
		{"unsupported curve", ocspsign.Issuer{ID: idOf(p224CA), Cert: p224CA, Signer: p224}, ocspsign.Policy{}},
		{"policy out of bounds", p.delegated, ocspsign.Policy{Validity: time.Hour}},
	}
	for _, c := range cases {
		if s, err := ocspsign.New(c.is, c.policy); err == nil {
			t.Errorf("%s: New = %v, no error", c.name, s)
		}
	}
	s := mustSigner(t, p.delegated, ocspsign.Policy{ByName: true})
	if want, _ := (ocspsign.Policy{ByName: true}).Resolve(); s.Policy() != want {
		t.Errorf("Policy %+v, want %+v resolved", s.Policy(), want)
	}
}
