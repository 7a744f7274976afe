package ca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certstatus/certstatus/certs"
)

// leafCA is one issuing CA made by cfssl's signer, as CreateSub makes one.
type leafCA struct {
	name string
	key  crypto.Signer
	cert *x509.Certificate
}

var (
	leafCAsOnce sync.Once
	leafCAs     []leafCA
	leafKeys    []crypto.Signer
)

func mustKey(tb testing.TB, a certs.Algorithm) crypto.Signer {
	tb.Helper()
	k, err := generate(a)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// testLeafCAs returns a root-signed sub CA for every CA key type the
// signature choice depends on, and leaf keys of each family.
func testLeafCAs(tb testing.TB) ([]leafCA, []crypto.Signer) {
	tb.Helper()
	leafCAsOnce.Do(func() {
		now := time.Now()
		rootKey := mustKey(tb, certs.ECC384)
		rootSubj := certs.Subject{CommonName: "Leaf Test Root", Organization: "certstatus", Country: "US"}
		csrPEM, err := makeCSR(rootKey, rootSubj, nil)
		if err != nil {
			tb.Fatal(err)
		}
		rootDER, err := sign(rootKey, nil, profile{usages: caUsages, isCA: true, pathLen: -1, notBefore: now, notAfter: now.AddDate(10, 0, 0)}, csrPEM, big.NewInt(1), nil, nil)
		if err != nil {
			tb.Fatal(err)
		}
		root, _ := x509.ParseCertificate(rootDER)
		for i, a := range []certs.Algorithm{certs.ECC256, certs.ECC384, certs.RSA2048} {
			key := mustKey(tb, a)
			subj := certs.Subject{CommonName: "Leaf Test " + string(a), Organization: "certstatus", Country: "US"}
			csrPEM, err := makeCSR(key, subj, nil)
			if err != nil {
				tb.Fatal(err)
			}
			der, err := sign(rootKey, root, profile{usages: caUsages, isCA: true, pathLen: 0, anyPolicy: true, notBefore: now, notAfter: now.AddDate(5, 0, 0)}, csrPEM, big.NewInt(int64(i+2)), nil, nil)
			if err != nil {
				tb.Fatal(err)
			}
			c, _ := x509.ParseCertificate(der)
			leafCAs = append(leafCAs, leafCA{name: string(a), key: key, cert: c})
		}
		// A P-521 key, so the third ECDSA signature algorithm is covered too.
		p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
		csrPEM, err = makeCSR(p521, certs.Subject{CommonName: "Leaf Test P-521", Organization: "certstatus", Country: "US"}, nil)
		if err != nil {
			tb.Fatal(err)
		}
		der, err := sign(rootKey, root, profile{usages: caUsages, isCA: true, pathLen: 0, notBefore: now, notAfter: now.AddDate(5, 0, 0)}, csrPEM, big.NewInt(9), nil, nil)
		if err != nil {
			tb.Fatal(err)
		}
		c, _ := x509.ParseCertificate(der)
		leafCAs = append(leafCAs, leafCA{name: "P-521", key: p521, cert: c})
		// An Ed25519 CA (importable; cfssl signs with PureEd25519).
		_, edKey, _ := ed25519.GenerateKey(rand.Reader)
		csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "Leaf Test Ed25519", Organization: []string{"certstatus"}, Country: []string{"US"}}}, edKey)
		if err != nil {
			tb.Fatal(err)
		}
		der, err = sign(rootKey, root, profile{usages: caUsages, isCA: true, pathLen: 0, notBefore: now, notAfter: now.AddDate(5, 0, 0)}, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}), big.NewInt(10), nil, nil)
		if err != nil {
			tb.Fatal(err)
		}
		c, _ = x509.ParseCertificate(der)
		leafCAs = append(leafCAs, leafCA{name: "Ed25519", key: edKey, cert: c})
		leafKeys = []crypto.Signer{mustKey(tb, certs.ECC256), mustKey(tb, certs.ECC384), leafCAs[2].key}
	})
	if len(leafCAs) != 5 {
		tb.Fatal("test CAs were not made")
	}
	return leafCAs, leafKeys
}

// viaCFSSL issues as Issue did before signLeaf: a CSR from the key, signed
// by cfssl's local signer.
func viaCFSSL(tb testing.TB, c leafCA, key crypto.Signer, p profile, serial *big.Int, hosts []string, subj certs.Subject) ([]byte, error) {
	tb.Helper()
	csrPEM, err := makeCSR(key, subj, hosts)
	if err != nil {
		return nil, err
	}
	return sign(c.key, c.cert, p, csrPEM, serial, hosts, subjectOverride(subj))
}

// sameLeaf fails unless signLeaf and cfssl's signer agree: both refuse, or
// both issue a certificate whose TBSCertificate is the same bytes and
// whose signature verifies under the CA.
func sameLeaf(t *testing.T, c leafCA, key crypto.Signer, p profile, serial *big.Int, hosts []string, subj certs.Subject) {
	t.Helper()
	want, werr := viaCFSSL(t, c, key, p, serial, hosts, subj)
	got, tmpl, gerr := signLeaf(c.key, c.cert, p, key.Public(), serial, hosts, subj)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("cfssl err %v, signLeaf err %v (subject %+v, hosts %q)", werr, gerr, subj, hosts)
	}
	if werr != nil {
		return
	}
	wc, err := x509.ParseCertificate(want)
	if err != nil {
		t.Fatal(err)
	}
	gc, err := x509.ParseCertificate(got)
	if err != nil {
		t.Fatalf("signLeaf made an unparsable certificate: %v", err)
	}
	if !bytes.Equal(gc.RawTBSCertificate, wc.RawTBSCertificate) {
		t.Fatalf("TBSCertificate differs from cfssl's (subject %+v, hosts %q)\n got %x\nwant %x", subj, hosts, gc.RawTBSCertificate, wc.RawTBSCertificate)
	}
	if !gc.NotBefore.Equal(tmpl.NotBefore) || !gc.NotAfter.Equal(tmpl.NotAfter) || gc.SerialNumber.Cmp(tmpl.SerialNumber) != 0 ||
		gc.NotBefore.Location() != tmpl.NotBefore.Location() {
		t.Fatalf("template says %v..%v serial %v, certificate %v..%v serial %v", tmpl.NotBefore, tmpl.NotAfter, tmpl.SerialNumber, gc.NotBefore, gc.NotAfter, gc.SerialNumber)
	}
	if gc.SignatureAlgorithm != wc.SignatureAlgorithm {
		t.Fatalf("signature algorithm %v, cfssl %v", gc.SignatureAlgorithm, wc.SignatureAlgorithm)
	}
	if err := gc.CheckSignatureFrom(c.cert); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
	if len(got) != len(want) && gc.SignatureAlgorithm == x509.SHA256WithRSA {
		t.Fatalf("RSA certificate of %d bytes, cfssl's %d", len(got), len(want))
	}
}

func TestLeaf_SameAsCFSSL(t *testing.T) {
	cas, keys := testLeafCAs(t)
	now := time.Now()
	base := profile{pathLen: -1, notBefore: now.Add(-time.Minute), notAfter: now.AddDate(0, 0, 90),
		ocspURL: "http://ocsp.test:8888", crlURL: "http://ocsp.test:8888/crl/x.crl", issuerURL: "http://ocsp.test:8888/ca/x.der"}
	full := certs.Subject{CommonName: "client-1", Country: "CN", State: "Zhejiang", Locality: "Hangzhou", Organization: "Example Co", OrganizationalUnit: "IT"}
	cases := []struct {
		name  string
		p     func(profile, crypto.PublicKey) profile
		subj  certs.Subject
		hosts []string
	}{
		{"client, CN only", client, certs.Subject{CommonName: "alice"}, []string{}},
		{"client, full subject", client, full, []string{}},
		{"server, DNS and IPs", server, certs.Subject{CommonName: "www.example.com"}, []string{"www.example.com", "api.example.com", "10.1.2.3", "2001:db8::7"}},
		{"server, email and URI", server, full, []string{"www.example.com", "ops@example.com", "spiffe://td/ns/app"}},
		{"empty subject: SAN critical", server, certs.Subject{}, []string{"only-san.example"}},
		{"UTF-8 subject", client, certs.Subject{CommonName: "客户端 ünïcode", Organization: "Société Générale & Co.*"}, []string{}},
		{"no CRL", func(p profile, k crypto.PublicKey) profile { p = client(p, k); p.crlURL = ""; return p }, full, []string{}},
		{"no URLs", func(p profile, k crypto.PublicKey) profile {
			p = server(p, k)
			p.ocspURL, p.crlURL, p.issuerURL = "", "", ""
			return p
		}, full, []string{"a.example"}},
		{"GeneralizedTime after 2049", func(p profile, k crypto.PublicKey) profile {
			p = client(p, k)
			p.notAfter = time.Date(2051, 3, 4, 5, 6, 7, 890, time.UTC)
			return p
		}, full, []string{}},
		{"sub-second validity", func(p profile, k crypto.PublicKey) profile {
			p = client(p, k)
			p.notBefore = now.Add(123456789 * time.Nanosecond)
			return p
		}, full, []string{}},
	}
	serials := []*big.Int{big.NewInt(1), big.NewInt(0x80), new(big.Int).Lsh(big.NewInt(1), 127), new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 159), big.NewInt(1))}
	for _, c := range cas {
		for ki, key := range keys {
			for i, tc := range cases {
				t.Run(c.name+"/"+tc.name, func(t *testing.T) {
					sameLeaf(t, c, key, tc.p(base, key.Public()), serials[(i+ki)%len(serials)], tc.hosts, tc.subj)
				})
			}
		}
	}
}

func client(p profile, pub crypto.PublicKey) profile { p.usages = leafUsages(pub, false); return p }
func server(p profile, pub crypto.PublicKey) profile { p.usages = leafUsages(pub, true); return p }

// FuzzLeaf_SameAsCFSSL: for any subject and SANs Issue accepts, signLeaf
// issues a certificate x509 parses, with cfssl's TBSCertificate.
func FuzzLeaf_SameAsCFSSL(f *testing.F) {
	f.Add("alice", "Example", "www.example.com,10.0.0.1", uint16(90), true)
	f.Add("", "", "a@b.example,spiffe://x/y", uint16(1), false)
	f.Add("ü", "&*<>", "2001:db8::1", uint16(40000), true)
	f.Fuzz(func(t *testing.T, cn, org, hostList string, days uint16, isServer bool) {
		cas, keys := testLeafCAs(t)
		subj := certs.Subject{CommonName: cn, Organization: org}
		if subj.Validate() != nil {
			return
		}
		var sans certs.SANs // as Issue gets them: each name valid
		if hostList != "" {
			for _, h := range strings.Split(hostList, ",") {
				if sans.ParseSAN(h) != nil {
					return
				}
			}
		}
		hosts := sans.Hosts()
		if hosts == nil {
			hosts = []string{}
		}
		now := time.Now() // a validity of at least a day, as Validity.Window gives
		p := profile{pathLen: -1, notBefore: now, notAfter: now.Add(time.Duration(days%40000+1) * 24 * time.Hour), ocspURL: "http://ocsp.test", crlURL: "http://ocsp.test/crl"}
		c, key := cas[int(days)%len(cas)], keys[int(days)%len(keys)]
		p.usages = leafUsages(key.Public(), isServer)
		if _, _, err := signLeaf(c.key, c.cert, p, key.Public(), big.NewInt(int64(days)+1), hosts, subj); err != nil {
			t.Fatalf("valid subject %+v and SANs %q refused: %v", subj, hosts, err)
		}
		sameLeaf(t, c, key, p, big.NewInt(int64(days)+1), hosts, subj)
	})
}

// wrappedSigner hides a Go key behind another type, as an external signer
// (Options.SignerFor) would be; bad makes it return a wrong signature.
type wrappedSigner struct {
	crypto.Signer
	bad bool
}

func (w wrappedSigner) Sign(r io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	if w.bad {
		digest = append([]byte(nil), digest...)
		digest[0] ^= 1
	}
	return w.Signer.Sign(r, digest, opts)
}

func TestLeaf_ExternalSignerChecked(t *testing.T) {
	cas, keys := testLeafCAs(t)
	now := time.Now()
	p := client(profile{pathLen: -1, notBefore: now, notAfter: now.Add(time.Hour)}, keys[0].Public())
	for _, c := range cas {
		der, _, err := signLeaf(wrappedSigner{Signer: c.key}, c.cert, p, keys[0].Public(), big.NewInt(5), []string{}, certs.Subject{CommonName: "x"})
		if err != nil {
			t.Fatalf("%s: good external signer refused: %v", c.name, err)
		}
		if _, err := x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
		_, _, err = signLeaf(wrappedSigner{Signer: c.key, bad: true}, c.cert, p, keys[0].Public(), big.NewInt(5), []string{}, certs.Subject{CommonName: "x"})
		if err == nil || !strings.Contains(err.Error(), "signature returned by signer is invalid") {
			t.Fatalf("%s: bad external signature: err %v", c.name, err)
		}
	}
}

func TestLeaf_RefusesWhatItCannotEncode(t *testing.T) {
	cas, keys := testLeafCAs(t)
	now := time.Now()
	p := client(profile{pathLen: -1, notBefore: now, notAfter: now.Add(time.Hour)}, keys[0].Public())
	for name, mutate := range map[string]func(*x509.Certificate){
		"CA":               func(c *x509.Certificate) { c.IsCA = true },
		"policy":           func(c *x509.Certificate) { c.PolicyIdentifiers = append(c.PolicyIdentifiers, oidSKI) },
		"extra extension":  func(c *x509.Certificate) { c.ExtraExtensions = append(c.ExtraExtensions, pkix.Extension{Id: oidSKI}) },
		"name constraint":  func(c *x509.Certificate) { c.PermittedDNSDomains = []string{"x"} },
		"zero serial":      func(c *x509.Certificate) { c.SerialNumber = new(big.Int) },
		"odd IP":           func(c *x509.Certificate) { c.IPAddresses = append(c.IPAddresses, []byte{1, 2, 3}) },
		"non-ASCII DNS":    func(c *x509.Certificate) { c.DNSNames = []string{"é.example"} },
		"unknown EKU":      func(c *x509.Certificate) { c.ExtKeyUsage = append(c.ExtKeyUsage, x509.ExtKeyUsage(99)) },
		"key usage bit 9":  func(c *x509.Certificate) { c.KeyUsage = 1 << 9 },
		"key usage bit 16": func(c *x509.Certificate) { c.KeyUsage = 1 << 16 },
		"year 10000":       func(c *x509.Certificate) { c.NotAfter = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
	} {
		tmpl, err := leafTemplate(keys[0].Public(), certs.Subject{CommonName: "x"}, []string{}, p, big.NewInt(1))
		if err != nil {
			t.Fatal(err)
		}
		mutate(tmpl)
		if der, err := createLeaf(tmpl, cas[0].cert, cas[0].key); err == nil {
			t.Errorf("%s: encoded (%d bytes), want an error", name, len(der))
		}
	}
	for _, bad := range []profile{{isCA: true}, {anyPolicy: true}, {ocspNoCheck: true}} {
		if _, err := leafTemplate(keys[0].Public(), certs.Subject{CommonName: "x"}, nil, bad, big.NewInt(1)); err == nil {
			t.Errorf("leafTemplate accepted CA profile %+v", bad)
		}
	}
}

// Serials ascend with the time of issue and keep 64 random bits.
func TestSerialAt(t *testing.T) {
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	seen := map[string]bool{}
	var prev *big.Int
	for i := range 2000 {
		at := t0.Add(time.Duration(i/2) * time.Microsecond) // pairs share an instant
		s, err := serialAt(at)
		if err != nil {
			t.Fatal(err)
		}
		b := s.Bytes()
		if s.Sign() <= 0 || len(b) != 16 {
			t.Fatalf("serial %x: want 16 bytes, positive", b)
		}
		if seen[s.String()] {
			t.Fatalf("serial %x issued twice", b)
		}
		seen[s.String()] = true
		if i%2 == 1 && new(big.Int).Rsh(s, 64).Cmp(new(big.Int).Rsh(prev, 64)) != 0 {
			t.Fatalf("same instant, different time halves: %x %x", prev.Bytes(), b)
		}
		if i%2 == 0 && prev != nil && s.Cmp(prev) <= 0 {
			t.Fatalf("serial %x issued later is not greater than %x", b, prev.Bytes())
		}
		prev = s
	}
	// The random halves of 2,000 serials: every bit position varies.
	var ones, zeros uint64
	for k := range seen {
		n, _ := new(big.Int).SetString(k, 10)
		low := new(big.Int).And(n, new(big.Int).SetUint64(^uint64(0))).Uint64()
		ones |= low
		zeros |= ^low
	}
	if ones != ^uint64(0) || zeros != ^uint64(0) {
		t.Fatalf("random half has constant bits: ones %064b zeros %064b", ones, zeros)
	}
}
