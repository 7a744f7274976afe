package responder_test

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/responder"
)

// reqPKI is a throwaway CA with two leaves, written as PEM to a temp dir.
type reqPKI struct {
	ca, leaf, leaf2 *x509.Certificate
	dir             string
}

func newReqPKI(t *testing.T) *reqPKI {
	t.Helper()
	p := &reqPKI{dir: t.TempDir()}
	caKey, leafKey := newKey(t), newKey(t)
	p.ca = p.issue(t, "ca", big.NewInt(1), nil, &caKey.PublicKey, caKey)
	p.leaf = p.issue(t, "leaf", new(big.Int).SetBytes([]byte{0x7f, 0xfb, 0xef, 0xbe, 0xff, 0x12}), p.ca, &leafKey.PublicKey, caKey)
	p.leaf2 = p.issue(t, "leaf2", big.NewInt(0x1234), p.ca, &newKey(t).PublicKey, caKey)
	pk, err := x509.MarshalPKCS8PrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(p.dir, "leaf.key"), "PRIVATE KEY", pk)
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// issue creates a certificate (self-signed when parent is nil) and writes
// it to <dir>/<name>.pem.
func (p *reqPKI) issue(t *testing.T, name string, serial *big.Int, parent *x509.Certificate, pub crypto.PublicKey, signer crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	if parent == nil {
		tmpl.IsCA, tmpl.BasicConstraintsValid, tmpl.KeyUsage = true, true, x509.KeyUsageCertSign
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(p.dir, name+".pem"), "CERTIFICATE", der)
	return cert
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// wantCertID is the CertID x/crypto builds for cert, parsed by us.
func wantCertID(t *testing.T, cert, issuer *x509.Certificate, h crypto.Hash) responder.CertID {
	t.Helper()
	der, err := ocsp.CreateRequest(cert, issuer, &ocsp.RequestOptions{Hash: h})
	if err != nil {
		t.Fatal(err)
	}
	req, err := responder.ParseRequest(der)
	if err != nil {
		t.Fatalf("ParseRequest(x/crypto %v request): %v", h, err)
	}
	return req.CertIDs[0]
}

func checkCertID(t *testing.T, got, want responder.CertID) {
	t.Helper()
	if got.Hash != want.Hash || !bytes.Equal(got.NameHash, want.NameHash) ||
		!bytes.Equal(got.KeyHash, want.KeyHash) || got.Serial.Cmp(want.Serial) != 0 || !bytes.Equal(got.Raw, want.Raw) {
		t.Errorf("CertID = {%v %x %x %v %x}, want {%v %x %x %v %x}",
			got.Hash, got.NameHash, got.KeyHash, got.Serial, got.Raw,
			want.Hash, want.NameHash, want.KeyHash, want.Serial, want.Raw)
	}
}

func TestParseRequest_XCrypto(t *testing.T) {
	p := newReqPKI(t)
	for _, h := range []crypto.Hash{crypto.SHA1, crypto.SHA256, crypto.SHA384, crypto.SHA512} {
		t.Run(h.String(), func(t *testing.T) {
			der, err := ocsp.CreateRequest(p.leaf, p.ca, &ocsp.RequestOptions{Hash: h})
			if err != nil {
				t.Fatal(err)
			}
			x, err := ocsp.ParseRequest(der)
			if err != nil {
				t.Fatal(err)
			}
			got, err := responder.ParseRequest(der)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if len(got.CertIDs) != 1 || got.HasNonce || got.Nonce != nil || got.Signed {
				t.Fatalf("got %d CertIDs, HasNonce %v, Nonce %x, Signed %v; want 1, false, nil, false",
					len(got.CertIDs), got.HasNonce, got.Nonce, got.Signed)
			}
			id := got.CertIDs[0]
			if id.Hash != x.HashAlgorithm || !bytes.Equal(id.NameHash, x.IssuerNameHash) ||
				!bytes.Equal(id.KeyHash, x.IssuerKeyHash) || id.Serial.Cmp(x.SerialNumber) != 0 {
				t.Errorf("got %v %x %x %v, x/crypto says %v %x %x %v", id.Hash, id.NameHash, id.KeyHash, id.Serial,
					x.HashAlgorithm, x.IssuerNameHash, x.IssuerKeyHash, x.SerialNumber)
			}
			var outer struct {
				TBS struct {
					List []struct{ Cert asn1.RawValue }
				}
			}
			if _, err := asn1.Unmarshal(der, &outer); err != nil {
				t.Fatal(err)
			}
			if want := outer.TBS.List[0].Cert.FullBytes; !bytes.Equal(id.Raw, want) {
				t.Errorf("Raw = %x, want %x", id.Raw, want)
			}
			der[len(der)-1] ^= 0xff
			if id.Raw[len(id.Raw)-1] == der[len(der)-1] {
				t.Error("Raw aliases the input")
			}
		})
	}
}

func requireOpenSSL(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is required for this test: %v", err)
	}
	return path
}

func TestParseRequest_OpenSSL(t *testing.T) {
	openssl := requireOpenSSL(t)
	p := newReqPKI(t)
	leaf, leaf2 := filepath.Join(p.dir, "leaf.pem"), filepath.Join(p.dir, "leaf2.pem")
	type wantID struct {
		cert *x509.Certificate
		hash crypto.Hash
	}
	tests := []struct {
		name   string
		args   []string
		want   []wantID
		nonce  bool
		signed bool
	}{
		{"default", []string{"-cert", leaf}, []wantID{{p.leaf, crypto.SHA1}}, true, false},
		{"no_nonce", []string{"-cert", leaf, "-no_nonce"}, []wantID{{p.leaf, crypto.SHA1}}, false, false},
		{"sha256", []string{"-sha256", "-cert", leaf}, []wantID{{p.leaf, crypto.SHA256}}, true, false},
		{"two certs", []string{"-cert", leaf, "-cert", leaf2}, []wantID{{p.leaf, crypto.SHA1}, {p.leaf2, crypto.SHA1}}, true, false},
		// The digest option applies to the -cert options after it only.
		{"mixed hashes", []string{"-cert", leaf, "-sha512", "-cert", leaf2},
			[]wantID{{p.leaf, crypto.SHA1}, {p.leaf2, crypto.SHA512}}, true, false},
		{"signed", []string{"-cert", leaf, "-signer", leaf, "-signkey", filepath.Join(p.dir, "leaf.key")},
			[]wantID{{p.leaf, crypto.SHA1}}, true, true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(p.dir, "req"+string(rune('a'+i))+".der")
			args := append([]string{"ocsp", "-issuer", filepath.Join(p.dir, "ca.pem")}, tt.args...)
			if b, err := exec.Command(openssl, append(args, "-reqout", out)...).CombinedOutput(); err != nil {
				t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, b)
			}
			der, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			got, err := responder.ParseRequest(der)
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if len(got.CertIDs) != len(tt.want) {
				t.Fatalf("got %d CertIDs, want %d", len(got.CertIDs), len(tt.want))
			}
			for j, w := range tt.want {
				checkCertID(t, got.CertIDs[j], wantCertID(t, w.cert, p.ca, w.hash))
				if !bytes.Contains(der, got.CertIDs[j].Raw) {
					t.Errorf("CertID %d: Raw %x is not in the request", j, got.CertIDs[j].Raw)
				}
			}
			if got.Signed != tt.signed {
				t.Errorf("Signed = %v, want %v", got.Signed, tt.signed)
			}
			if got.HasNonce != tt.nonce || tt.nonce != (got.Nonce != nil) {
				t.Fatalf("HasNonce = %v, Nonce = %x; want a nonce: %v", got.HasNonce, got.Nonce, tt.nonce)
			}
			if !tt.nonce {
				return
			}
			if len(got.Nonce) != 16 {
				t.Errorf("nonce is %d octets, want openssl's 16", len(got.Nonce))
			}
			// openssl prints the extnValue contents: 04 10 <nonce>.
			text, err := exec.Command(openssl, "ocsp", "-reqin", out, "-req_text").CombinedOutput()
			if err != nil {
				t.Fatalf("openssl -req_text: %v\n%s", err, text)
			}
			if want := "0410" + strings.ToUpper(hex.EncodeToString(got.Nonce)); !strings.Contains(string(text), want) {
				t.Errorf("openssl's text has no %s:\n%s", want, text)
			}
		})
	}
}

func TestParseRequest_HandBuilt(t *testing.T) {
	ids := func(n int) []idSpec {
		out := make([]idSpec, n)
		for i := range out {
			out[i] = defaultID()
			out[i].serial = []byte{byte(i + 1)}
		}
		return out
	}
	with := func(f func(*idSpec)) []idSpec {
		id := defaultID()
		f(&id)
		return []idSpec{id}
	}
	tests := []struct {
		name       string
		spec       reqSpec
		wantReason string // "" for success
		wantNonce  []byte
		check      func(t *testing.T, r *responder.Request)
	}{
		{name: "ok/minimal", spec: reqSpec{ids: ids(1)}},
		{name: "ok/explicit version 0", spec: reqSpec{version: []byte{0}, ids: ids(1)}},
		{name: "ok/requestorName", spec: reqSpec{requestor: true, ids: ids(1)}},
		{name: "ok/signed", spec: reqSpec{requestor: true, ids: ids(1), signed: true, exts: []extSpec{nonceExt(16, false)}},
			wantNonce: nonceBytes(16), check: func(t *testing.T, r *responder.Request) {
				if !r.Signed {
					t.Error("Signed = false, want true")
				}
			}},
		{name: "ok/16 certids", spec: reqSpec{ids: ids(16)}, check: func(t *testing.T, r *responder.Request) {
			if len(r.CertIDs) != 16 || r.CertIDs[15].Serial.Int64() != 16 {
				t.Errorf("got %d CertIDs, want 16 in order", len(r.CertIDs))
			}
		}},
		{name: "ok/nonce 1", spec: reqSpec{ids: ids(1), exts: []extSpec{nonceExt(1, false)}}, wantNonce: nonceBytes(1)},
		{name: "ok/nonce 16", spec: reqSpec{ids: ids(1), exts: []extSpec{nonceExt(16, false)}}, wantNonce: nonceBytes(16)},
		{name: "ok/nonce 32", spec: reqSpec{ids: ids(1), exts: []extSpec{nonceExt(32, false)}}, wantNonce: nonceBytes(32)},
		{name: "ok/nonce 128", spec: reqSpec{ids: ids(1), exts: []extSpec{nonceExt(128, false)}}, wantNonce: nonceBytes(128)},
		{name: "ok/critical nonce", spec: reqSpec{ids: ids(1), exts: []extSpec{nonceExt(20, true)}}, wantNonce: nonceBytes(20)},
		{name: "ok/non-critical unknown extension", spec: reqSpec{ids: ids(1),
			exts: []extSpec{{oid: oidUnknown, value: []byte{1}}, nonceExt(8, false)}}, wantNonce: nonceBytes(8)},
		{name: "ok/explicit critical FALSE", spec: reqSpec{ids: ids(1), exts: []extSpec{{oid: oidUnknown, explicitFalse: true}}}},
		{name: "ok/empty extensions", spec: reqSpec{ids: ids(1), exts: []extSpec{}}},
		{name: "ok/non-critical unknown single extension", spec: reqSpec{ids: ids(1), singleExts: []extSpec{{oid: oidUnknown}}}},
		{name: "ok/empty key hash", spec: reqSpec{ids: with(func(id *idSpec) { id.keyHash = nil })},
			check: func(t *testing.T, r *responder.Request) {
				if len(r.CertIDs[0].KeyHash) != 0 {
					t.Errorf("KeyHash = %x, want empty", r.CertIDs[0].KeyHash)
				}
			}},
		{name: "ok/all-zero key hash", spec: reqSpec{ids: with(func(id *idSpec) { id.keyHash = make([]byte, 20) })}},
		{name: "ok/absent hash parameters", spec: reqSpec{ids: with(func(id *idSpec) { id.params = nil })}},
		{name: "ok/sha384", spec: reqSpec{ids: with(func(id *idSpec) {
			id.oid, id.nameHash, id.keyHash = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}, make([]byte, 48), make([]byte, 48)
		})}, check: func(t *testing.T, r *responder.Request) {
			if r.CertIDs[0].Hash != crypto.SHA384 {
				t.Errorf("Hash = %v, want SHA-384", r.CertIDs[0].Hash)
			}
		}},
		{name: "ok/negative serial", spec: reqSpec{ids: with(func(id *idSpec) { id.serial = []byte{0xfb} })},
			check: func(t *testing.T, r *responder.Request) {
				if r.CertIDs[0].Serial.Int64() != -5 {
					t.Errorf("Serial = %v, want -5", r.CertIDs[0].Serial)
				}
			}},
		{name: "ok/zero serial", spec: reqSpec{ids: with(func(id *idSpec) { id.serial = []byte{0} })}},
		{name: "ok/64-octet serial", spec: reqSpec{ids: with(func(id *idSpec) { id.serial = bytes.Repeat([]byte{0x7f}, 64) })}},

		{name: "error/nonce 0", spec: reqSpec{ids: ids(1), exts: []extSpec{nonceExt(0, false)}}, wantReason: responder.ReasonNonceLength},
		{name: "error/nonce 129", spec: reqSpec{ids: ids(1), exts: []extSpec{nonceExt(129, false)}}, wantReason: responder.ReasonNonceLength},
		{name: "error/single-wrapped nonce", spec: reqSpec{ids: ids(1), exts: []extSpec{{oid: oidNonce, value: nonceBytes(16)}}},
			wantReason: responder.ReasonNonceEncoding},
		{name: "error/nonce with trailing data", spec: reqSpec{ids: ids(1),
			exts: []extSpec{{oid: oidNonce, value: append(nonceExt(4, false).value, 0)}}}, wantReason: responder.ReasonNonceEncoding},
		{name: "error/two nonces", spec: reqSpec{ids: ids(1), exts: []extSpec{nonceExt(16, false), nonceExt(16, false)}},
			wantReason: responder.ReasonDuplicateExtension},
		{name: "error/critical unknown extension", spec: reqSpec{ids: ids(1), exts: []extSpec{{oid: oidUnknown, critical: true}}},
			wantReason: responder.ReasonCriticalExtension},
		{name: "error/critical unknown single extension", spec: reqSpec{ids: ids(1), singleExts: []extSpec{{oid: oidUnknown, critical: true}}},
			wantReason: responder.ReasonCriticalExtension},
		{name: "error/version 1", spec: reqSpec{version: []byte{1}, ids: ids(1)}, wantReason: responder.ReasonVersion},
		{name: "error/trailing bytes", spec: reqSpec{ids: ids(1), trailing: []byte{0}}, wantReason: responder.ReasonTrailingData},
		{name: "error/trailing in tbsRequest", spec: reqSpec{ids: ids(1), tbsTrailing: []byte{0x05, 0x00}}, wantReason: responder.ReasonTrailingData},
		{name: "error/trailing in CertID", spec: reqSpec{ids: with(func(id *idSpec) { id.trailing = []byte{0x05, 0x00} })},
			wantReason: responder.ReasonTrailingData},
		{name: "error/empty requestList", spec: reqSpec{}, wantReason: responder.ReasonNoCertID},
		{name: "error/17 certids", spec: reqSpec{ids: ids(17)}, wantReason: responder.ReasonTooManyCertIDs},
		{name: "error/md5", spec: reqSpec{ids: with(func(id *idSpec) { id.oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5} })},
			wantReason: responder.ReasonUnsupportedHash},
		{name: "error/hash parameters", spec: reqSpec{ids: with(func(id *idSpec) { id.params = []byte{0x02, 0x01, 0x00} })},
			wantReason: responder.ReasonUnsupportedHash},
		{name: "error/name hash length", spec: reqSpec{ids: with(func(id *idSpec) { id.nameHash = make([]byte, 32) })},
			wantReason: responder.ReasonNameHashLength},
		{name: "error/key hash length", spec: reqSpec{ids: with(func(id *idSpec) { id.keyHash = make([]byte, 19) })},
			wantReason: responder.ReasonKeyHashLength},
		{name: "error/empty serial", spec: reqSpec{ids: with(func(id *idSpec) { id.serial = nil })}, wantReason: responder.ReasonSerial},
		{name: "error/65-octet serial", spec: reqSpec{ids: with(func(id *idSpec) { id.serial = bytes.Repeat([]byte{0x7f}, 65) })},
			wantReason: responder.ReasonSerial},
		{name: "error/non-minimal serial", spec: reqSpec{ids: with(func(id *idSpec) { id.serial = []byte{0, 1} })},
			wantReason: responder.ReasonSerial},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			der := tt.spec.der()
			r, err := responder.ParseRequest(der)
			if tt.wantReason != "" {
				var re *responder.RequestError
				if !errors.As(err, &re) || re.Reason != tt.wantReason {
					t.Fatalf("error = %v, want a RequestError with reason %q", err, tt.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRequest: %v", err)
			}
			if r.HasNonce != (tt.wantNonce != nil) || !bytes.Equal(r.Nonce, tt.wantNonce) {
				t.Errorf("HasNonce = %v, Nonce = %x; want %x", r.HasNonce, r.Nonce, tt.wantNonce)
			}
			for i, id := range tt.spec.ids {
				if !bytes.Equal(r.CertIDs[i].Raw, id.der()) {
					t.Errorf("CertID %d: Raw = %x, want %x", i, r.CertIDs[i].Raw, id.der())
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestParseRequest_NotDER(t *testing.T) {
	valid := (&reqSpec{ids: []idSpec{defaultID()}}).der()
	for name, der := range map[string][]byte{
		"empty":             nil,
		"not a SEQUENCE":    {0x04, 0x00},
		"truncated":         valid[:len(valid)-1],
		"indefinite length": {0x30, 0x80, 0x00, 0x00},
		"long-form length":  append([]byte{0x30, 0x81, byte(len(valid) - 2)}, valid[2:]...),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := responder.ParseRequest(der)
			var re *responder.RequestError
			if !errors.As(err, &re) || re.Reason != responder.ReasonASN1 {
				t.Fatalf("error = %v, want reason %q", err, responder.ReasonASN1)
			}
			if !strings.HasPrefix(err.Error(), "responder: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}
