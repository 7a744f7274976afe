package ocspsign_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"slices"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// setCAs are CAs named as a Set meets them: a, b of another name and key,
// a2 a renewal of a (same name and key, another certificate) and c a CA
// with a's name and another key.
type setCAs struct {
	a, b, a2, c ocspsign.Issuer
}

func newSetCAs(t *testing.T) setCAs {
	t.Helper()
	year := time.Now().Add(365 * 24 * time.Hour)
	kA, kB, kC := key(t, keyKinds[0], "set a"), key(t, keyKinds[1], "set b"), key(t, keyKinds[0], "set c")
	rA, rB := key(t, keyKinds[0], "set a responder"), key(t, keyKinds[1], "set b responder")
	delegated := func(ca *x509.Certificate, caKey, rKey crypto.Signer) ocspsign.Issuer {
		r := newResponder(t, ca, caKey, "Set Responder", rKey, year)
		return ocspsign.Issuer{ID: idOf(ca), Cert: ca, Signer: rKey, SignerCert: r}
	}
	a := newCA(t, "Set CA A", kA, year)
	b := newCA(t, "Set CA B", kB, year)
	a2 := newCA(t, "Set CA A", kA, year.Add(time.Hour))
	c := newCA(t, "Set CA A", kC, year)
	return setCAs{
		a:  delegated(a, kA, rA),
		b:  delegated(b, kB, rB),
		a2: ocspsign.Issuer{ID: idOf(a2), Cert: a2, Signer: kA},
		c:  ocspsign.Issuer{ID: idOf(c), Cert: c, Signer: kC},
	}
}

func mustSet(t *testing.T, p ocspsign.Policy, issuers ...ocspsign.Issuer) *ocspsign.Set {
	t.Helper()
	set, err := ocspsign.NewSet(p, issuers...)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// ids lists the CAs of signers, in order.
func ids(signers []*ocspsign.Signer) []certs.Identifier {
	var out []certs.Identifier
	for _, s := range signers {
		out = append(out, s.ID)
	}
	return out
}

func TestSet_GetSignersPolicy(t *testing.T) {
	cas := newSetCAs(t)
	set := mustSet(t, ocspsign.Policy{Validity: 48 * time.Hour, ByName: true}, cas.a, cas.b)
	for _, is := range []ocspsign.Issuer{cas.a, cas.b} {
		s := set.Get(is.ID)
		if s == nil || s.Cert != is.Cert || s.SignerCert != is.SignerCert {
			t.Fatalf("Get(%s) = %v", is.ID, s)
		}
		if s.Policy() != set.Policy() {
			t.Errorf("signer policy %+v, set's %+v", s.Policy(), set.Policy())
		}
	}
	if s := set.Get(cas.c.ID); s != nil {
		t.Errorf("Get of a CA not in the set = %v", s)
	}
	if want := []certs.Identifier{cas.a.ID, cas.b.ID}; !slices.Equal(ids(set.Signers()), want) {
		t.Errorf("Signers %v, want %v", ids(set.Signers()), want)
	}
	if want := (ocspsign.Policy{Validity: 48 * time.Hour, RefreshAfter: 16 * time.Hour, ByName: true}); set.Policy() != want {
		t.Errorf("Policy %+v, want %+v (resolved)", set.Policy(), want)
	}
	if empty := mustSet(t, ocspsign.Policy{}); empty.Get(cas.a.ID) != nil || len(empty.Signers()) != 0 {
		t.Error("an empty set has signers")
	}
}

// Match finds a CA by its name and key hashes, or by name alone for an
// empty or all-zero key hash (Windows CryptoAPI), for every hash; never by
// another CA's key, nor across hash algorithms.
func TestSet_Match(t *testing.T) {
	cas := newSetCAs(t)
	set := mustSet(t, ocspsign.Policy{}, cas.a, cas.b, cas.c)
	a, b, c := set.Get(cas.a.ID), set.Get(cas.b.ID), set.Get(cas.c.ID)
	for _, h := range ocspsign.Hashes {
		zeros := make([]byte, h.Size())
		cases := []struct {
			name              string
			nameHash, keyHash []byte
			want              []certs.Identifier
		}{
			{"a/name+key", a.NameHash(h), a.KeyHash(h), []certs.Identifier{a.ID}},
			{"b/name+key", b.NameHash(h), b.KeyHash(h), []certs.Identifier{b.ID}},
			{"c (a's name)/name+key", c.NameHash(h), c.KeyHash(h), []certs.Identifier{c.ID}},
			{"a's name/empty key hash", a.NameHash(h), nil, []certs.Identifier{a.ID, c.ID}},
			{"a's name/zero key hash", a.NameHash(h), zeros, []certs.Identifier{a.ID, c.ID}},
			{"b's name/zero key hash", b.NameHash(h), zeros, []certs.Identifier{b.ID}},
			{"a's name/b's key", a.NameHash(h), b.KeyHash(h), nil},
			{"b's name/a's key", b.NameHash(h), a.KeyHash(h), nil},
			{"a's name/a's key, one byte off", a.NameHash(h), flip(a.KeyHash(h)), nil},
			{"unknown name/empty key hash", flip(a.NameHash(h)), nil, nil},
			{"nothing", nil, nil, nil},
		}
		for _, c := range cases {
			if got := ids(set.Match(h, c.nameHash, c.keyHash)); !slices.Equal(got, c.want) {
				t.Errorf("%v %s: Match = %v, want %v", h, c.name, got, c.want)
			}
		}
		// Another algorithm's hashes name nothing.
		other := crypto.SHA256
		if h == crypto.SHA256 {
			other = crypto.SHA1
		}
		if got := set.Match(other, a.NameHash(h), a.KeyHash(h)); got != nil {
			t.Errorf("%v hashes matched as %v: %v", h, other, ids(got))
		}
	}
}

func flip(b []byte) []byte {
	b = bytes.Clone(b)
	b[len(b)-1] ^= 1
	return b
}

// ByPrefix finds the one signer whose canonical CertID begins so, with its
// hash; never a CertID encoded otherwise, nor one several CAs share.
func TestSet_ByPrefix(t *testing.T) {
	cas := newSetCAs(t)
	set := mustSet(t, ocspsign.Policy{}, cas.a, cas.b, cas.c)
	for _, s := range set.Signers() {
		for _, h := range ocspsign.Hashes {
			p := s.CertIDPrefix(h)
			got, gotH, ok := set.ByPrefix(p)
			if !ok || got != s || gotH != h {
				t.Errorf("%s %v: ByPrefix = %v %v %v", s.ID, h, got, gotH, ok)
			}
			for _, bad := range [][]byte{p[:len(p)-1], append(bytes.Clone(p), 0), flip(p)} {
				if got, _, ok := set.ByPrefix(bad); ok || got != nil {
					t.Errorf("%s %v: ByPrefix of %x = %v", s.ID, h, bad, got)
				}
			}
		}
	}
	if _, _, ok := set.ByPrefix(nil); ok {
		t.Error("ByPrefix(nil)")
	}
}

// CAs sharing a name and key (a renewed CA certificate) share every
// CertID: Match returns both, for a lookup to find which issued the
// serial, and ByPrefix names neither rather than guess.
func TestSet_SharedNameAndKey(t *testing.T) {
	cas := newSetCAs(t)
	set := mustSet(t, ocspsign.Policy{}, cas.a, cas.b, cas.a2)
	a, a2, b := set.Get(cas.a.ID), set.Get(cas.a2.ID), set.Get(cas.b.ID)
	if a == nil || a2 == nil || a == a2 {
		t.Fatal("the renewed CA is not a signer of its own")
	}
	for _, h := range ocspsign.Hashes {
		if !bytes.Equal(a.CertIDPrefix(h), a2.CertIDPrefix(h)) {
			t.Fatalf("%v: a renewal with the same name and key has another CertID", h)
		}
		want := []certs.Identifier{a.ID, a2.ID}
		if got := ids(set.Match(h, a.NameHash(h), a.KeyHash(h))); !slices.Equal(got, want) {
			t.Errorf("%v: Match = %v, want %v", h, got, want)
		}
		if got := ids(set.Match(h, a.NameHash(h), nil)); !slices.Equal(got, want) {
			t.Errorf("%v: Match by name = %v, want %v", h, got, want)
		}
		if s, _, ok := set.ByPrefix(a.CertIDPrefix(h)); ok || s != nil {
			t.Errorf("%v: ByPrefix of a shared prefix = %v", h, s.ID)
		}
		if s, gotH, ok := set.ByPrefix(b.CertIDPrefix(h)); !ok || s != b || gotH != h {
			t.Errorf("%v: ByPrefix of b = %v %v %v", h, s, gotH, ok)
		}
	}
}

// A Set never leaves a CA out silently: one issuer that cannot sign fails
// the whole Set.
func TestNewSet_Errors(t *testing.T) {
	cas := newSetCAs(t)
	wrongKey := cas.a
	wrongKey.Signer = cas.b.Signer
	caWrongKey := cas.c
	caWrongKey.Signer = cas.a.Signer
	cases := []struct {
		name    string
		policy  ocspsign.Policy
		issuers []ocspsign.Issuer
	}{
		{"delegated signer key is not the responder certificate's", ocspsign.Policy{}, []ocspsign.Issuer{cas.b, wrongKey}},
		{"CA signer key is not the CA certificate's", ocspsign.Policy{}, []ocspsign.Issuer{caWrongKey, cas.b}},
		{"no signer", ocspsign.Policy{}, []ocspsign.Issuer{cas.a, {ID: cas.b.ID, Cert: cas.b.Cert}}},
		{"policy out of bounds", ocspsign.Policy{Validity: 8 * 24 * time.Hour}, []ocspsign.Issuer{cas.a}},
	}
	for _, c := range cases {
		if set, err := ocspsign.NewSet(c.policy, c.issuers...); err == nil || set != nil {
			t.Errorf("%s: NewSet = %v, %v; want an error and no set", c.name, set, err)
		}
	}
}

// The lookups accept a nil *Set (none published yet) and find nothing.
func TestSet_NilLookups(t *testing.T) {
	var set *ocspsign.Set
	cas := newSetCAs(t)
	s := mustSigner(t, cas.a, ocspsign.Policy{})
	if set.Get(cas.a.ID) != nil {
		t.Error("Get")
	}
	if set.Match(crypto.SHA1, s.NameHash(crypto.SHA1), s.KeyHash(crypto.SHA1)) != nil || set.Match(crypto.SHA1, s.NameHash(crypto.SHA1), nil) != nil {
		t.Error("Match")
	}
	if got, h, ok := set.ByPrefix(s.CertIDPrefix(crypto.SHA1)); got != nil || h != 0 || ok {
		t.Error("ByPrefix")
	}
}

// A Set checks the form of stored answers until its writer settles it; a
// settled copy keeps the signers and leaves the original as it was.
func TestSet_Settled(t *testing.T) {
	var nilSet *ocspsign.Set
	if !nilSet.CheckForm() {
		t.Error("a nil Set skips the form check")
	}
	set, err := ocspsign.NewSet(ocspsign.Policy{})
	if err != nil {
		t.Fatal(err)
	}
	settled := set.Settled()
	if !set.CheckForm() || settled.CheckForm() {
		t.Errorf("CheckForm: new %v, settled %v; want true, false", set.CheckForm(), settled.CheckForm())
	}
	if settled.Policy() != set.Policy() || len(settled.Signers()) != len(set.Signers()) {
		t.Error("the settled copy lost the policy or the signers")
	}
}
