package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/certstatus/certstatus/internal/parallel"
)

type leaf struct {
	cert    *x509.Certificate
	revoked bool
	at      time.Time
}

type fixture struct {
	dir             string
	ca              *x509.Certificate
	caKey           *ecdsa.PrivateKey
	caPEM, caKeyPEM string // file paths
	index           string
	certsDir        string
	leaves          []leaf
}

func makeFixture(dir string, n int) (*fixture, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Second)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Country: []string{"US"}, Organization: []string{"loadbench"}, CommonName: "loadbench CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	ca, _ := x509.ParseCertificate(der)
	fx := &fixture{dir: dir, ca: ca, caKey: key, caPEM: filepath.Join(dir, "ca.pem"), caKeyPEM: filepath.Join(dir, "ca.key"),
		index: filepath.Join(dir, "index.txt"), certsDir: filepath.Join(dir, "newcerts")}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writePEM(fx.caPEM, "CERTIFICATE", der); err != nil {
		return nil, err
	}
	if err := writePEM(fx.caKeyPEM, "PRIVATE KEY", pkcs8); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(fx.certsDir, 0o700); err != nil {
		return nil, err
	}
	// One leaf key for all: the fixture measures status answers, not keys.
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	// Leaves are signed on every core (a million take minutes on one);
	// the index lists them in order.
	fx.leaves = make([]leaf, n)
	lines := make([]string, n)
	var firstErr error
	var errOnce sync.Once
	parallel.For(n, func(i int) {
		if err := makeLeaf(fx, i, now, ca, key, leafKey, lines); err != nil {
			errOnce.Do(func() { firstErr = err })
		}
	})
	if firstErr != nil {
		return nil, firstErr
	}
	var index bytes.Buffer
	for _, l := range lines {
		index.WriteString(l)
	}
	if err := os.WriteFile(fx.index, index.Bytes(), 0o600); err != nil {
		return nil, err
	}
	return fx, os.WriteFile(fx.index+".attr", []byte("unique_subject = no\n"), 0o600)
}

// makeLeaf signs leaf i, writes its PEM file and its index line.
func makeLeaf(fx *fixture, i int, now time.Time, ca *x509.Certificate, key, leafKey *ecdsa.PrivateKey, lines []string) error {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return err
	}
	serial.SetBit(serial, 126, 1) // fixed length: no leading-zero surprises in file names
	t := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: fmt.Sprintf("client-%d", i)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(0, 3, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, t, ca, leafKey.Public(), key)
	if err != nil {
		return err
	}
	cert, _ := x509.ParseCertificate(der)
	l := leaf{cert: cert}
	hexSerial := strings.ToUpper(serial.Text(16))
	if err := writePEM(filepath.Join(fx.certsDir, hexSerial+".pem"), "CERTIFICATE", der); err != nil {
		return err
	}
	exp := cert.NotAfter.UTC().Format("060102150405Z")
	if i%10 == 5 {
		l.revoked, l.at = true, now.Add(-10*time.Minute)
		lines[i] = fmt.Sprintf("R\t%s\t%s,keyCompromise\t%s\tunknown\t/CN=client-%d\n", exp, l.at.Format("060102150405Z"), hexSerial, i)
	} else {
		lines[i] = fmt.Sprintf("V\t%s\t\t%s\tunknown\t/CN=client-%d\n", exp, hexSerial, i)
	}
	fx.leaves[i] = l
	return nil
}

func writePEM(path, typ string, der []byte) error {
	return os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600)
}

// --- requests and wrk scripts ---------------------------------------------

type request struct {
	der  []byte
	want int // ocsp.Good, ocsp.Revoked, ocsp.Unknown
}

// buildRequests samples good and revoked leaves and adds unknown serials,
// in proportion 8:1:1.
func buildRequests(fx *fixture, n int) ([]request, error) {
	var out []request
	add := func(serial *big.Int, want int) error {
		der, err := ocspRequest(fx.ca, serial)
		if err != nil {
			return err
		}
		out = append(out, request{der, want})
		return nil
	}
	for _, l := range fx.leaves {
		if len(out) >= n*9/10 {
			break
		}
		want := ocsp.Good
		if l.revoked {
			want = ocsp.Revoked
		}
		if err := add(l.cert.SerialNumber, want); err != nil {
			return nil, err
		}
	}
	for len(out) < n {
		s, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err := add(s.SetBit(s, 126, 1), ocsp.Unknown); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ocspRequest builds a SHA-1 CertID request for serial, as openssl ocsp
// and most clients send it.
func ocspRequest(issuer *x509.Certificate, serial *big.Int) ([]byte, error) {
	fake := &x509.Certificate{SerialNumber: serial}
	return ocsp.CreateRequest(fake, issuer, &ocsp.RequestOptions{Hash: crypto.SHA1})
}

// withNonce adds an RFC 9654 nonce extension (32 random bytes) to req by
// re-encoding it; x/crypto/ocsp cannot write request extensions. It also
// returns the extension's value, which the response must echo.
func withNonce(der []byte) (req, value []byte) {
	// OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest }
	// TBSRequest ::= SEQUENCE { requestList, [2] EXPLICIT Extensions }
	nonce := make([]byte, 32)
	rand.Read(nonce)
	octet := append([]byte{0x04, byte(len(nonce))}, nonce...)
	extnValue := append([]byte{0x04, byte(len(octet))}, octet...)
	oid := []byte{0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02}
	ext := tlv(0x30, append(oid, extnValue...))
	exts := tlv(0xa2, tlv(0x30, ext))
	outer := readTLV(der)
	tbs := readTLV(outer)
	return tlv(0x30, tlv(0x30, append(append([]byte{}, tbs...), exts...))), octet
}

func tlv(tag byte, body []byte) []byte {
	n := len(body)
	var hdr []byte
	switch {
	case n < 0x80:
		hdr = []byte{tag, byte(n)}
	case n < 0x100:
		hdr = []byte{tag, 0x81, byte(n)}
	default:
		hdr = []byte{tag, 0x82, byte(n >> 8), byte(n)}
	}
	return append(hdr, body...)
}

// readTLV returns the contents of the DER element at the start of b.
func readTLV(b []byte) []byte {
	l := int(b[1])
	off := 2
	if l&0x80 != 0 {
		k := l & 0x7f
		l = 0
		for i := 0; i < k; i++ {
			l = l<<8 | int(b[2+i])
		}
		off += k
	}
	return b[off : off+l]
}
