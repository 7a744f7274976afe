package db

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/certstatus/certstatus/certs"
	"github.com/certstatus/certstatus/db/kv"
)

func testCertDER(tb testing.TB, serial *big.Int) []byte {
	tb.Helper()
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "serial test"},
		NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		tb.Fatal(err)
	}
	return der
}

func TestCheckSerial(t *testing.T) {
	big1 := new(big.Int).Lsh(big.NewInt(0x1234), 112)
	der := testCertDER(t, big1)
	if err := checkSerial(der, certs.SerialFromBig(big1)); err != nil {
		t.Fatalf("good certificate: %v", err)
	}
	for name, tc := range map[string]struct {
		der    []byte
		serial certs.Serial
	}{
		"other serial":   {der, "1234"},
		"empty":          {nil, "1"},
		"garbage":        {[]byte("not a certificate"), "1"},
		"trailing data":  {append(append([]byte(nil), der...), 0), certs.SerialFromBig(big1)},
		"truncated":      {der[:len(der)-1], certs.SerialFromBig(big1)},
		"no signature":   {der[:len(der)-72], certs.SerialFromBig(big1)},
		"PEM":            {[]byte("-----BEGIN CERTIFICATE-----\n"), "1"},
		"serial missing": {[]byte{0x30, 0x07, 0x30, 0x00, 0x30, 0x00, 0x03, 0x01, 0x00}, "1"},
	} {
		if err := checkSerial(tc.der, tc.serial); !errors.Is(err, certs.ErrInvalid) {
			t.Errorf("%s: err %v, want ErrInvalid", name, err)
		}
	}
}

// FuzzCheckSerial holds checkSerial to x509.ParseCertificate: whatever
// x509 parses, checkSerial accepts with x509's serial and no other.
func FuzzCheckSerial(f *testing.F) {
	f.Add(testCertDER(f, big.NewInt(1)))
	f.Add(testCertDER(f, new(big.Int).Lsh(big.NewInt(1), 150)))
	f.Add([]byte{0x30, 0x03, 0x30, 0x01, 0x02})
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		want := certs.SerialFromBig(c.SerialNumber)
		if err := checkSerial(der, want); err != nil {
			t.Fatalf("x509 parses it with serial %s, checkSerial: %v", want, err)
		}
		if err := checkSerial(der, want+"0"); err == nil {
			t.Fatalf("checkSerial accepted serial %s0 for a certificate of serial %s", want, want)
		}
	})
}

// Records put in ascending serial order (as ca's time-ordered serials
// arrive) fill the pages of the trees keyed by issuer and serial instead of
// leaving each half empty behind the right edge (at bbolt's 50% split they
// were 50% and 45% full).
func TestPut_AscendingSerialsFillPages(t *testing.T) {
	density := func() (is, answers float64) {
		s, f := newCheckStore(t)
		subC, err := x509.ParseCertificate(f.sub.DER)
		if err != nil {
			t.Fatal(err)
		}
		ctx := t.Context()
		// Another CA's entries sort after this CA's, as they do for half
		// of all identifier pairs: appends are judged within a CA's range.
		last := bytes.Repeat([]byte{0xff}, 16)
		if err := s.bolt.Update(func(tx *bolt.Tx) error {
			if err := put(kv.BoltTx(tx), bucketIssuerSerial, append(last, 1), make([]byte, 16)); err != nil {
				return err
			}
			return put(kv.BoltTx(tx), bucketOCSP, append(last, 1, 1, byte(crypto.SHA1)), []byte("x"))
		}); err != nil {
			t.Fatal(err)
		}
		base := new(big.Int).Lsh(big.NewInt(1), 100)
		for i := range 400 {
			n := new(big.Int).Add(base, big.NewInt(int64(i)<<20))
			c := wbCert(t, 1, false, subC)
			tmpl := *c
			tmpl.SerialNumber = n
			der, err := x509.CreateCertificate(rand.Reader, &tmpl, subC, &wbKey().PublicKey, wbKey())
			if err != nil {
				t.Fatal(err)
			}
			r := certs.Record{Identifier: certs.IdentifierOf(der), Issuer: f.sub.Identifier, Kind: certs.KindClient,
				Serial: certs.SerialFromBig(n), DER: der, State: certs.StateIssued}
			now := time.Now().UTC().Truncate(time.Second)
			o := certs.OCSPResponse{Issuer: r.Issuer, Serial: r.Serial, Hash: crypto.SHA1, Status: certs.Good,
				DER: randBytes(t, 300), ThisUpdate: now, NextUpdate: now.Add(time.Hour)}
			if err := s.Put(ctx, r, o); err != nil {
				t.Fatal(err)
			}
		}
		s.bolt.View(func(tx *bolt.Tx) error {
			fill := func(name []byte) float64 {
				st := tx.Bucket(name).Stats()
				return float64(st.LeafInuse) / float64(st.LeafPageN*s.bolt.Info().PageSize)
			}
			is, answers = fill(bucketIssuerSerial), fill(bucketOCSP)
			return nil
		})
		return is, answers
	}
	is, answers := density()
	if is < 0.75 || answers < 0.75 {
		t.Errorf("ascending serials: leaf pages %.0f%% (issuer+serial) and %.0f%% (answers) full, want at least 75%%", is*100, answers*100)
	}
}

func randBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}
