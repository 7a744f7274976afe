// Package pkcs8 encrypts PKCS#8 private keys with a password, as
// EncryptedPrivateKeyInfo (RFC 5958) under PBES2 (RFC 8018): PBKDF2 with
// HMAC-SHA256 and AES-256-CBC — what `openssl pkcs8 -topk8 -v2 aes256`
// writes and what OpenSSL, Java and Go's ecosystem read.
package pkcs8

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
)

// Iterations is the PBKDF2 iteration count.
const Iterations = 100_000

var (
	oidPBES2      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidHMACSHA256 = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	oidAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
)

type pbkdf2Params struct {
	Salt           []byte
	IterationCount int
	KeyLength      int `asn1:"optional"`
	PRF            pkix.AlgorithmIdentifier
}

type pbes2Params struct {
	KeyDerivationFunc pkix.AlgorithmIdentifier
	EncryptionScheme  pkix.AlgorithmIdentifier
}

type encryptedPrivateKeyInfo struct {
	Algorithm     pkix.AlgorithmIdentifier
	EncryptedData []byte
}

// EncryptPEM encrypts a PKCS#8 DER private key under password and returns
// it as an "ENCRYPTED PRIVATE KEY" PEM block.
func EncryptPEM(der []byte, password []byte) ([]byte, error) {
	if len(password) == 0 {
		return nil, errors.New("pkcs8: empty password")
	}
	salt := make([]byte, 16)
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(sha256.New, string(password), salt, Iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("pkcs8: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(der)%aes.BlockSize
	buf := make([]byte, len(der)+pad)
	copy(buf, der)
	for i := len(der); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)

	kdf, err := asn1.Marshal(pbkdf2Params{Salt: salt, IterationCount: Iterations, KeyLength: 32,
		PRF: pkix.AlgorithmIdentifier{Algorithm: oidHMACSHA256, Parameters: asn1.NullRawValue}})
	if err != nil {
		return nil, err
	}
	ivDER, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	params, err := asn1.Marshal(pbes2Params{
		KeyDerivationFunc: pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdf}},
		EncryptionScheme:  pkix.AlgorithmIdentifier{Algorithm: oidAES256CBC, Parameters: asn1.RawValue{FullBytes: ivDER}},
	})
	if err != nil {
		return nil, err
	}
	out, err := asn1.Marshal(encryptedPrivateKeyInfo{
		Algorithm:     pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
		EncryptedData: buf,
	})
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: out}), nil
}

// DecryptPEM reverses EncryptPEM (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC
// only) and returns the PKCS#8 DER.
func DecryptPEM(data, password []byte) ([]byte, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("pkcs8: not an ENCRYPTED PRIVATE KEY PEM block")
	}
	var info encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(b.Bytes, &info); err != nil {
		return nil, fmt.Errorf("pkcs8: %w", err)
	}
	var p pbes2Params
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, errors.New("pkcs8: not PBES2")
	}
	if _, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &p); err != nil {
		return nil, fmt.Errorf("pkcs8: %w", err)
	}
	var kdf pbkdf2Params
	if !p.KeyDerivationFunc.Algorithm.Equal(oidPBKDF2) || !p.EncryptionScheme.Algorithm.Equal(oidAES256CBC) {
		return nil, errors.New("pkcs8: only PBKDF2 with AES-256-CBC is supported")
	}
	if _, err := asn1.Unmarshal(p.KeyDerivationFunc.Parameters.FullBytes, &kdf); err != nil {
		return nil, fmt.Errorf("pkcs8: %w", err)
	}
	var iv []byte
	if _, err := asn1.Unmarshal(p.EncryptionScheme.Parameters.FullBytes, &iv); err != nil || len(iv) != aes.BlockSize {
		return nil, errors.New("pkcs8: bad IV")
	}
	if kdf.IterationCount < 1 || kdf.IterationCount > 10_000_000 {
		return nil, errors.New("pkcs8: unreasonable iteration count")
	}
	key, err := pbkdf2.Key(sha256.New, string(password), kdf.Salt, kdf.IterationCount, 32)
	if err != nil {
		return nil, fmt.Errorf("pkcs8: %w", err)
	}
	ct := info.EncryptedData
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, errors.New("pkcs8: bad ciphertext length")
	}
	block, _ := aes.NewCipher(key)
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad < 1 || pad > aes.BlockSize || pad > len(pt) {
		return nil, errors.New("pkcs8: wrong password or corrupt data")
	}
	for _, c := range pt[len(pt)-pad:] {
		if int(c) != pad {
			return nil, errors.New("pkcs8: wrong password or corrupt data")
		}
	}
	return pt[:len(pt)-pad], nil
}
