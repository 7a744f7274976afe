package pkcs8_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/certstatus/certstatus/internal/pkcs8"
)

func TestRoundTripAndOpenSSL(t *testing.T) {
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(k)
	pemOut, err := pkcs8.EncryptPEM(der, []byte("s3cret pass"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(pemOut, der) {
		t.Fatal("plaintext key in output")
	}
	got, err := pkcs8.DecryptPEM(pemOut, []byte("s3cret pass"))
	if err != nil || !bytes.Equal(got, der) {
		t.Fatalf("DecryptPEM: %v", err)
	}
	if _, err := pkcs8.DecryptPEM(pemOut, []byte("wrong")); err == nil {
		t.Error("wrong password accepted")
	}
	if _, err := pkcs8.EncryptPEM(der, nil); err == nil {
		t.Error("empty password accepted")
	}

	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatal("openssl is required for interop tests (.ci/run installs it)")
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "enc.pem")
	os.WriteFile(in, pemOut, 0o600)
	out, err := exec.Command(openssl, "pkcs8", "-in", in, "-passin", "pass:s3cret pass", "-outform", "DER").Output()
	if err != nil {
		t.Fatalf("openssl pkcs8 could not decrypt: %v", err)
	}
	back, err := x509.ParsePKCS8PrivateKey(out)
	if err != nil {
		back, err = x509.ParseECPrivateKey(out)
	}
	if err != nil || !k.Equal(back) {
		t.Fatalf("openssl decrypted another key: %v", err)
	}
	if err := exec.Command(openssl, "pkcs8", "-in", in, "-passin", "pass:nope", "-outform", "DER").Run(); err == nil {
		t.Error("openssl decrypted with a wrong password")
	}
	// And the other way: a key openssl encrypted is read back.
	plain := filepath.Join(dir, "plain.der")
	os.WriteFile(plain, der, 0o600)
	enc, err := exec.Command(openssl, "pkcs8", "-topk8", "-inform", "DER", "-in", plain, "-v2", "aes256", "-v2prf", "hmacWithSHA256", "-passout", "pass:pw").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := pkcs8.DecryptPEM(enc, []byte("pw")); err != nil || !bytes.Equal(got, der) {
		t.Errorf("decrypting openssl's output: %v", err)
	}
}

func FuzzDecryptPEM(f *testing.F) {
	f.Add([]byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMAA=\n-----END ENCRYPTED PRIVATE KEY-----\n"), []byte("pw"))
	f.Fuzz(func(t *testing.T, data, pw []byte) {
		pkcs8.DecryptPEM(data, pw) // must not panic
	})
}
