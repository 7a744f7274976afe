package ocspclient_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/ca"
	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db"
	"github.com/certstatus/certstatus/internal/keyseal"
	"github.com/certstatus/certstatus/internal/ocspclient"
	"github.com/certstatus/certstatus/responder"
)

// stack is a real certstatus on 127.0.0.1, built like cmd/certstatus
// wires it: bbolt, the CA (whose certificates carry the listener's URL in
// their AIA) and the responder. The sub CA answers through a delegated
// responder certificate, the root signs with its own key.
type stack struct {
	auth              *ca.Authority
	srv               *httptest.Server
	url               string
	root, sub         certs.CA
	rootCert, subCert *x509.Certificate
}

func newStack(t *testing.T) *stack {
	t.Helper()
	ctx := context.Background()
	srv := httptest.NewUnstartedServer(nil)
	s := &stack{srv: srv, url: "http://" + srv.Listener.Addr().String()}
	store, err := db.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); store.Close() })
	mk := make([]byte, keyseal.KeySize)
	rand.Read(mk)
	sealer, _ := keyseal.New(mk)
	if s.auth, err = ca.New(store, sealer, &ca.Options{OCSPURL: s.url, OCSP: &ca.OCSPOptions{}}); err != nil {
		t.Fatal(err)
	}
	s.root, err = s.auth.CreateRoot(ctx, certs.RootRequest{Subject: certs.Subject{CommonName: "ocspclient Test Root", Organization: "certstatus", Country: "US"},
		Algorithm: certs.ECC384, Validity: certs.Validity{Years: 2}})
	if err != nil {
		t.Fatal(err)
	}
	s.sub, err = s.auth.CreateSub(ctx, certs.SubRequest{Parent: s.root.Identifier, Subject: certs.Subject{CommonName: "ocspclient Test Issuing", Organization: "certstatus", Country: "US"},
		Algorithm: certs.ECC256, Validity: certs.Validity{Years: 1}})
	if err != nil {
		t.Fatal(err)
	}
	s.rootCert, _ = s.root.Certificate()
	s.subCert, _ = s.sub.Certificate()
	rsp, err := responder.New(store, s.auth, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = rsp
	srv.Start()
	return s
}

// issue issues a client certificate from the sub CA and returns it with
// its private key.
func (s *stack) issue(t *testing.T, cn string) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	out, err := s.auth.Issue(context.Background(), certs.IssueRequest{Issuer: s.sub.Identifier, Kind: certs.KindClient,
		Subject: certs.Subject{CommonName: cn}, Validity: certs.Validity{Days: 30}})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := out.Record.Certificate()
	b, _ := pem.Decode(out.KeyPEM)
	key, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c, key.(crypto.Signer)
}

func (s *stack) revoke(t *testing.T, c *x509.Certificate, reason certs.Reason) {
	t.Helper()
	if _, err := s.auth.Revoke(context.Background(), certs.IdentifierOf(c.Raw), reason, time.Now()); err != nil {
		t.Fatal(err)
	}
}

func TestFetch(t *testing.T) {
	s := newStack(t)
	good, _ := s.issue(t, "good")
	revoked, _ := s.issue(t, "revoked")
	s.revoke(t, revoked, certs.KeyCompromise)
	cases := []struct {
		name   string
		cert   *x509.Certificate
		issuer *x509.Certificate
		url    string
		hash   crypto.Hash
		status int
	}{
		{"good/AIA URL, default SHA-1", good, s.subCert, "", 0, ocsp.Good},
		{"good/explicit URL, SHA-256", good, s.subCert, s.url, crypto.SHA256, ocsp.Good},
		{"revoked/keyCompromise", revoked, s.subCert, "", crypto.SHA1, ocsp.Revoked},
		{"good/sub CA signed by the root's own key", s.subCert, s.rootCert, s.url, crypto.SHA384, ocsp.Good},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			der, r, err := ocspclient.Fetch(context.Background(), nil, tc.url, tc.cert, tc.issuer, tc.hash)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != tc.status {
				t.Errorf("got status %d, want %d", r.Status, tc.status)
			}
			if want := max(tc.hash, crypto.SHA1); r.IssuerHash != want {
				t.Errorf("got CertID hash %v, want %v", r.IssuerHash, want)
			}
			if tc.status == ocsp.Revoked && (r.RevocationReason != ocsp.KeyCompromise || r.RevokedAt.IsZero()) {
				t.Errorf("got reason %d at %v, want keyCompromise with a time", r.RevocationReason, r.RevokedAt)
			}
			if _, err := ocspclient.Verify(der, tc.cert, tc.issuer, time.Now()); err != nil {
				t.Errorf("Verify of Fetch's DER: %v", err)
			}
		})
	}
}

func TestFetch_Errors(t *testing.T) {
	s := newStack(t)
	good, _ := s.issue(t, "good")
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) }))
	defer down.Close()
	otherCert, _ := selfSigned(t, "Somebody Else's CA", nil, nil, time.Now().Add(time.Hour), nil)
	cases := []struct {
		name, url string
		cert      *x509.Certificate
		issuer    *x509.Certificate
		want      string
	}{
		{"no AIA and no URL", "", s.rootCert, s.rootCert, "names no OCSP responder"},
		{"HTTP error status", down.URL, good, s.subCert, "HTTP 503"},
		{"issuer not served", s.url, good, otherCert, "unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			der, r, err := ocspclient.Fetch(context.Background(), nil, tc.url, tc.cert, tc.issuer, 0)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error containing %q", err, tc.want)
			}
			if der != nil || r != nil {
				t.Errorf("an error came with a response")
			}
		})
	}
}

// selfSigned makes a certificate: self-signed when parent is nil.
func selfSigned(t *testing.T, cn string, parent *x509.Certificate, parentKey crypto.Signer, notAfter time.Time, eku []x509.ExtKeyUsage) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: notAfter, ExtKeyUsage: eku, KeyUsage: x509.KeyUsageDigitalSignature}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), parentKey)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	return c, key
}

// forge signs a good answer for cert with signer, embedding signerCert.
func forge(t *testing.T, cert, issuer, signerCert *x509.Certificate, signer crypto.Signer, status int) []byte {
	t.Helper()
	now := time.Now().Truncate(time.Second)
	der, err := ocsp.CreateResponse(issuer, signerCert, ocsp.Response{Status: status, SerialNumber: cert.SerialNumber,
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour), Certificate: signerCert}, signer)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestVerify_Refuses(t *testing.T) {
	s := newStack(t)
	good, _ := s.issue(t, "good")
	other, _ := s.issue(t, "other")
	der, _, err := ocspclient.Fetch(context.Background(), nil, "", good, s.subCert, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ocspclient.Verify(der, good, s.subCert, time.Now()); err != nil {
		t.Fatalf("the genuine response: %v", err)
	}
	cases := []struct {
		name   string
		der    []byte
		cert   *x509.Certificate
		issuer *x509.Certificate
		now    time.Time
		want   string
	}{
		{"another certificate's response", der, other, s.subCert, time.Now(), "no response matching"},
		{"expired: now past nextUpdate", der, good, s.subCert, time.Now().Add(365 * 24 * time.Hour), "expired"},
		{"not yet valid: thisUpdate in the future", der, good, s.subCert, time.Now().Add(-24 * time.Hour), "in the future"},
		{"signed for another issuer", der, good, s.rootCert, time.Now(), "signature"},
		{"garbage", []byte("not an OCSP response"), good, s.subCert, time.Now(), "ocspclient: response"},
		{"truncated", der[:len(der)/2], good, s.subCert, time.Now(), "ocspclient: response"},
		{"empty", nil, good, s.subCert, time.Now(), "ocspclient: response"},
		{"OCSP error status", ocsp.UnauthorizedErrorResponse, good, s.subCert, time.Now(), "unauthorized"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ocspclient.Verify(tc.der, tc.cert, tc.issuer, tc.now)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, %v; want an error containing %q", r, err, tc.want)
			}
		})
	}
}

// TestVerify_SignerAuthorisation checks RFC 6960 §4.2.2.2: a delegated
// signer must be issued by the issuer, carry id-kp-OCSPSigning and be
// valid. Any certificate the CA issued is not a responder.
func TestVerify_SignerAuthorisation(t *testing.T) {
	s := newStack(t)
	revoked, _ := s.issue(t, "revoked")
	s.revoke(t, revoked, certs.KeyCompromise)
	subKey, err := s.auth.CASigner(context.Background(), s.sub.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	ocspEKU := []x509.ExtKeyUsage{x509.ExtKeyUsageOCSPSigning}
	delegate, delegateKey := selfSigned(t, "delegate", s.subCert, subKey, time.Now().Add(time.Hour), ocspEKU)
	if _, err := ocspclient.Verify(forge(t, revoked, s.subCert, delegate, delegateKey, ocsp.Good), revoked, s.subCert, time.Now()); err != nil {
		t.Fatalf("control: a valid delegated responder is refused: %v", err)
	}
	leaf, leafKey := s.issue(t, "a customer's client certificate")
	expired, expiredKey := selfSigned(t, "expired delegate", s.subCert, subKey, time.Now().Add(-time.Hour), ocspEKU)
	cases := []struct {
		name   string
		signer *x509.Certificate
		key    crypto.Signer
	}{
		{"leaf without id-kp-OCSPSigning", leaf, leafKey},
		{"expired delegated responder", expired, expiredKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ocspclient.Verify(forge(t, revoked, s.subCert, tc.signer, tc.key, ocsp.Good), revoked, s.subCert, time.Now())
			if err == nil {
				t.Errorf("a revoked certificate was answered %d by a forged response", r.Status)
			}
		})
	}
}

// An answer the CA signs itself is verified with the CA's key, whether it
// includes the CA's certificate (certstatus does, for Apache) or none;
// x/crypto alone refuses the first (golang/go#59641). A certificate with
// the CA's name but another key, or the root's, signs nothing for it.
func TestVerify_CASigned(t *testing.T) {
	s := newStack(t)
	good, _ := s.issue(t, "good")
	subKey, err := s.auth.CASigner(context.Background(), s.sub.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	tmpl := ocsp.Response{Status: ocsp.Good, SerialNumber: good.SerialNumber, ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(time.Hour)}
	bare, err := ocsp.CreateResponse(s.subCert, s.subCert, tmpl, subKey)
	if err != nil {
		t.Fatal(err)
	}
	withCA := forge(t, good, s.subCert, s.subCert, subKey, ocsp.Good)
	if _, err := ocsp.ParseResponseForCert(withCA, good, s.subCert); err == nil {
		t.Log("x/crypto now accepts a CA-signed answer with the CA's certificate: golang/go#59641 is fixed")
	}
	for name, der := range map[string][]byte{"without certs": bare, "with the CA's certificate": withCA} {
		if r, err := ocspclient.Verify(der, good, s.subCert, time.Now()); err != nil || r.Status != ocsp.Good {
			t.Errorf("%s: %v, %v", name, r, err)
		}
	}
	rootKey, err := s.auth.CASigner(context.Background(), s.root.Identifier)
	if err != nil {
		t.Fatal(err)
	}
	withCert := tmpl
	withCert.Certificate = s.subCert
	impostor, impostorKey := selfSigned(t, s.subCert.Subject.CommonName, nil, nil, time.Now().Add(time.Hour), nil)
	for name, der := range map[string][]byte{
		"the root's key and certificate":          forge(t, good, s.subCert, s.rootCert, rootKey, ocsp.Good),
		"the CA's name, another key, no certs":    mustCreate(t, s.subCert, impostor, tmpl, impostorKey),
		"the CA's name, another key, its cert":    forge(t, good, s.subCert, impostor, impostorKey, ocsp.Good),
		"the CA's certificate, another key signs": mustCreate(t, s.subCert, impostor, withCert, impostorKey),
	} {
		if r, err := ocspclient.Verify(der, good, s.subCert, time.Now()); err == nil {
			t.Errorf("%s: accepted (%d)", name, r.Status)
		}
	}
}

func mustCreate(t *testing.T, issuer, responder *x509.Certificate, tmpl ocsp.Response, key crypto.Signer) []byte {
	t.Helper()
	der, err := ocsp.CreateResponse(issuer, responder, tmpl, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// twoCertIDs returns one request holding the CertIDs of a and b.
func twoCertIDs(t *testing.T, a, b []byte) []byte {
	t.Helper()
	entry := func(req []byte) cryptobyte.String {
		in := cryptobyte.String(req)
		var outer, tbs, list, one cryptobyte.String
		if !in.ReadASN1(&outer, cbasn1.SEQUENCE) || !outer.ReadASN1(&tbs, cbasn1.SEQUENCE) || !tbs.ReadASN1(&list, cbasn1.SEQUENCE) || !list.ReadASN1Element(&one, cbasn1.SEQUENCE) {
			t.Fatal("unexpected request shape")
		}
		return one
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(o *cryptobyte.Builder) {
		o.AddASN1(cbasn1.SEQUENCE, func(o *cryptobyte.Builder) {
			o.AddASN1(cbasn1.SEQUENCE, func(o *cryptobyte.Builder) { o.AddBytes(entry(a)); o.AddBytes(entry(b)) })
		})
	})
	return out.BytesOrPanic()
}

// TestVerify_CertIDIssuer: a response must be matched on the whole CertID.
// certstatus signs a request naming an issuer it does not serve and then
// ours with the sub CA's responder, answering the foreign CertID unknown
// (responder doc, # Caveats); a client matching the serial alone reads
// that unknown for our revoked certificate.
func TestVerify_CertIDIssuer(t *testing.T) {
	s := newStack(t)
	revoked, _ := s.issue(t, "revoked")
	s.revoke(t, revoked, certs.KeyCompromise)
	otherCert, _ := selfSigned(t, "Somebody Else's CA", nil, nil, time.Now().Add(time.Hour), nil)
	foreign, err := ocsp.CreateRequest(revoked, otherCert, nil)
	if err != nil {
		t.Fatal(err)
	}
	ours, _ := ocsp.CreateRequest(revoked, s.subCert, nil)
	res, err := http.Post(s.url, "application/ocsp-request", bytes.NewReader(twoCertIDs(t, foreign, ours)))
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(res.Body)
	res.Body.Close()
	r, err := ocspclient.Verify(der, revoked, s.subCert, time.Now())
	if err == nil && r.Status != ocsp.Revoked {
		t.Errorf("got status %d for a revoked certificate, want revoked or an error", r.Status)
	}
}

func TestStapler(t *testing.T) {
	s := newStack(t)
	leaf, key := s.issue(t, "stapled")
	tc := tls.Certificate{Certificate: [][]byte{leaf.Raw, s.subCert.Raw}, PrivateKey: key}

	if _, err := ocspclient.NewStapler(tls.Certificate{}, s.subCert, "", nil); err == nil {
		t.Error("NewStapler accepted an empty certificate")
	}
	st, err := ocspclient.NewStapler(tc, s.subCert, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	before, _ := st.GetCertificate(&tls.ClientHelloInfo{ServerName: "stapled"})
	if len(before.OCSPStaple) != 0 || len(before.Certificate) != 2 {
		t.Errorf("before Refresh: got a %d-byte staple and %d certificates, want none and 2", len(before.OCSPStaple), len(before.Certificate))
	}
	if err := st.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := st.GetCertificate(&tls.ClientHelloInfo{})
	r, err := ocspclient.Verify(got.OCSPStaple, leaf, s.subCert, time.Now())
	if err != nil || r.Status != ocsp.Good {
		t.Fatalf("staple: got %v, %v; want a good response", r, err)
	}

	// A failed refresh keeps the staple it had.
	s.srv.Close()
	if err := st.Refresh(context.Background()); err == nil {
		t.Error("Refresh with the responder down succeeded")
	}
	if after, _ := st.GetCertificate(&tls.ClientHelloInfo{}); string(after.OCSPStaple) != string(got.OCSPStaple) {
		t.Error("a failed Refresh dropped the staple")
	}
}

func TestStapler_Run(t *testing.T) {
	s := newStack(t)
	leaf, key := s.issue(t, "stapled")
	st, err := ocspclient.NewStapler(tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}, s.subCert, s.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); st.Run(ctx) }()
	var staple []byte
	for deadline := time.Now().Add(30 * time.Second); len(staple) == 0 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		c, _ := st.GetCertificate(&tls.ClientHelloInfo{})
		staple = c.OCSPStaple
	}
	cancel()
	<-done
	if _, err := ocspclient.Verify(staple, leaf, s.subCert, time.Now()); err != nil {
		t.Errorf("Run's staple: %v", err)
	}
}
