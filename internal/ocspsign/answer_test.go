package ocspsign_test

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"math/big"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/internal/ocspsign"
)

// Answer signs the stored answer: the status StatusAt decides, for the
// canonical CertID, valid for the policy's validity from now; the
// returned record says what the DER says, and the DER is what x/crypto
// signs for it.
func TestAnswer(t *testing.T) {
	revokedAt := time.Now().Add(-48 * time.Hour)
	cases := []struct {
		name  string
		facts certs.StatusFacts
		want  certs.Status
	}{
		{"good", certs.StatusFacts{Found: true, State: certs.StateIssued, NotAfter: time.Now().Add(time.Hour)}, certs.Good},
		{"good/expired", certs.StatusFacts{Found: true, State: certs.StateIssued, NotAfter: time.Now().Add(-time.Hour)}, certs.Good},
		{"revoked/keyCompromise", certs.StatusFacts{Found: true, State: certs.StateRevoked, RevokedAt: revokedAt, Reason: certs.KeyCompromise}, certs.Revoked},
		{"revoked/unspecified", certs.StatusFacts{Found: true, State: certs.StateRevoked, RevokedAt: revokedAt, Reason: certs.Unspecified}, certs.Revoked},
		{"unknown", certs.StatusFacts{}, certs.Unknown},
	}
	for _, k := range keyKinds {
		p := newPKI(t, k)
		for _, f := range []form{forms[2], forms[1]} { // delegated byKey (the default), CA byName (x/crypto's form)
			s, signerCert, signerKey := p.signer(t, f)
			for _, c := range cases {
				for i, h := range ocspsign.Hashes {
					t.Run(k.name+"/"+f.name+"/"+c.name+"/"+h.String(), func(t *testing.T) {
						serial := randSerial(t)
						facts := c.facts
						facts.Serial = certs.SerialFromBig(serial)
						now := time.Now().Add(time.Duration(i) * time.Millisecond)
						o, err := s.Answer(facts, h, now)
						if err != nil {
							t.Fatal(err)
						}
						this, next := whole(now), whole(now).Add(24*time.Hour)
						if o.Issuer != p.caSigned.ID || o.Serial != facts.Serial || o.Hash != h || o.Status != c.want || !o.ThisUpdate.Equal(this) || !o.NextUpdate.Equal(next) {
							t.Errorf("Answer = %s/%s %v %v %v..%v, want %s/%s %v %v %v..%v", o.Issuer, o.Serial, o.Hash, o.Status, o.ThisUpdate, o.NextUpdate,
								p.caSigned.ID, facts.Serial, h, c.want, this, next)
						}
						id, _ := s.CertID(h, serial)
						sg := ocspsign.Single{CertID: id, Status: c.want, RevokedAt: facts.RevokedAt, Reason: facts.Reason, ThisUpdate: this, NextUpdate: next}
						checkRFC(t, k, f, signerCert, o.DER, []ocspsign.Single{sg}, now, nil, false)
						checkXCrypto(t, p, f, signerCert, o.DER, []ocspsign.Single{sg}, []*big.Int{serial}, []crypto.Hash{h}, now)
						if k.sigAlg == x509.PureEd25519 || !f.byName {
							return
						}
						tmpl := ocsp.Response{Status: xStatus(c.want), SerialNumber: serial, RevokedAt: facts.RevokedAt, RevocationReason: int(facts.Reason), IssuerHash: h}
						tmpl.Certificate = signerCert
						ours, theirs := twin(t, func(produced time.Time) ([]byte, ocsp.Response) {
							tmpl.ThisUpdate, tmpl.NextUpdate = produced, produced.Add(24*time.Hour)
							o, err := s.Answer(facts, h, produced)
							if err != nil {
								t.Fatal(err)
							}
							return o.DER, tmpl
						}, signerCert, p.ca, signerKey)
						sameAsXCrypto(t, k, ours, theirs)
					})
				}
			}
		}
	}
}

// Answer refuses what it cannot answer truthfully: a record the store
// cannot have written (never a status), a serial that is not one, a hash
// CertIDs do not use.
func TestAnswer_Errors(t *testing.T) {
	p := newPKI(t, keyKinds[0])
	s := mustSigner(t, p.delegated, ocspsign.Policy{})
	now := time.Now()
	corrupt := []certs.StatusFacts{
		{Found: true, Serial: "1f", State: certs.StateRevoked, Reason: certs.KeyCompromise},                           // revoked without a time
		{Found: true, Serial: "1f", State: certs.StateRevoked, RevokedAt: now, Reason: certs.RemoveFromCRL},           // a reason no revocation has
		{Found: true, Serial: "1f", State: certs.State(99)},                                                           // no such state
		{Found: true, Serial: "1f", State: certs.StateRevoked, RevokedAt: now, Reason: certs.Reason(7)},               // value 7 is unused
		{Found: true, Serial: "1f", State: certs.StateRevoked, RevokedAt: time.Time{}, Reason: certs.CertificateHold}, // zero time
	}
	for i, f := range corrupt {
		if o, err := s.Answer(f, crypto.SHA1, now); !errors.Is(err, certs.ErrCorrupt) || o.DER != nil {
			t.Errorf("corrupt facts %d: %v, %d bytes; want an error wrapping certs.ErrCorrupt", i, err, len(o.DER))
		}
	}
	if _, err := s.Answer(certs.StatusFacts{Found: true, Serial: "not hex", State: certs.StateIssued}, crypto.SHA1, now); err == nil {
		t.Error("a serial that is not hex: no error")
	}
	if _, err := s.Answer(certs.StatusFacts{Found: true, Serial: "1f", State: certs.StateIssued}, crypto.MD5, now); err == nil {
		t.Error("MD5 CertID: no error")
	}
}

// CertID writes, for every hash, the bytes ocsp.CreateRequest puts in a
// request for the same certificate (NULL hash parameters), and its name
// and key hashes are x/crypto's: SHA of the issuer's subject and of its
// subjectPublicKey bits.
func TestCertID_XCrypto(t *testing.T) {
	serials := []*big.Int{big.NewInt(1), big.NewInt(127), big.NewInt(128), big.NewInt(255), big.NewInt(256),
		new(big.Int).Lsh(big.NewInt(1), 159), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 160), big.NewInt(1))}
	for _, k := range keyKinds {
		p := newPKI(t, k)
		s := mustSigner(t, p.caSigned, ocspsign.Policy{})
		for _, h := range ocspsign.Hashes {
			t.Run(k.name+"/"+h.String(), func(t *testing.T) {
				nh := h.New()
				nh.Write(p.ca.RawSubject)
				kh := h.New()
				kh.Write(spkiBits(t, p.ca))
				if !bytes.Equal(s.NameHash(h), nh.Sum(nil)) || !bytes.Equal(s.KeyHash(h), kh.Sum(nil)) {
					t.Errorf("name hash %x key hash %x, want %x %x", s.NameHash(h), s.KeyHash(h), nh.Sum(nil), kh.Sum(nil))
				}
				for _, n := range append(serials, randSerial(t)) {
					req, err := ocsp.CreateRequest(&x509.Certificate{SerialNumber: n}, p.ca, &ocsp.RequestOptions{Hash: h})
					if err != nil {
						t.Fatal(err)
					}
					var r struct {
						TBS struct {
							List []struct{ CertID asn1.RawValue }
						}
					}
					if _, err := asn1.Unmarshal(req, &r); err != nil || len(r.TBS.List) != 1 {
						t.Fatalf("x/crypto request: %v", err)
					}
					id, err := s.CertID(h, n)
					if err != nil {
						t.Fatal(err)
					}
					if want := r.TBS.List[0].CertID.FullBytes; !bytes.Equal(id, want) {
						t.Errorf("serial %x: CertID %x, x/crypto's %x", n, id, want)
					}
					xr, err := ocsp.ParseRequest(req)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(xr.IssuerNameHash, s.NameHash(h)) || !bytes.Equal(xr.IssuerKeyHash, s.KeyHash(h)) || xr.HashAlgorithm != h {
						t.Errorf("x/crypto's request hashes %x %x (%v), ours %x %x", xr.IssuerNameHash, xr.IssuerKeyHash, xr.HashAlgorithm, s.NameHash(h), s.KeyHash(h))
					}
					// CertIDPrefix is the CertID's contents before the serial.
					body := cryptobyte.String(id)
					var contents cryptobyte.String
					var serial big.Int
					body.ReadASN1(&contents, cbasn1.SEQUENCE)
					prefix := s.CertIDPrefix(h)
					rest := cryptobyte.String(bytes.Clone(contents))
					if !bytes.HasPrefix(contents, prefix) || !rest.Skip(len(prefix)) || !rest.ReadASN1Integer(&serial) || !rest.Empty() || serial.Cmp(n) != 0 {
						t.Errorf("CertIDPrefix %x is not the CertID %x before its serial", prefix, id)
					}
				}
			})
		}
	}
	s := mustSigner(t, newPKI(t, keyKinds[0]).caSigned, ocspsign.Policy{})
	if id, err := s.CertID(crypto.MD5, big.NewInt(1)); err == nil {
		t.Errorf("MD5 CertID %x", id)
	}
	if s.CertIDPrefix(crypto.SHA224) != nil {
		t.Error("SHA-224 CertIDPrefix")
	}
	if !slices.Equal(ocspsign.Hashes, []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512}) {
		t.Errorf("Hashes %v", ocspsign.Hashes)
	}
}
