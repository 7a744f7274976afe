package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"strings"

	"github.com/cloudflare/cfssl/csr"

	"github.com/certstatus/certstatus/certs"
)

// Algorithm is a key algorithm and size, spelled as Alibaba's Algorithm
// parameter (ECC_256, RSA_2048, ...).
type Algorithm string

// The supported key algorithms.
const (
	ECC256  Algorithm = "ECC_256"
	ECC384  Algorithm = "ECC_384"
	RSA2048 Algorithm = "RSA_2048"
	RSA3072 Algorithm = "RSA_3072"
	RSA4096 Algorithm = "RSA_4096"
)

var algorithms = map[Algorithm]csr.KeyRequest{
	ECC256:  {A: "ecdsa", S: 256},
	ECC384:  {A: "ecdsa", S: 384},
	RSA2048: {A: "rsa", S: 2048},
	RSA3072: {A: "rsa", S: 3072},
	RSA4096: {A: "rsa", S: 4096},
}

// ParseAlgorithm accepts ECC_256, ECC_384, RSA_2048, RSA_3072 and RSA_4096
// and the aliases P-256, P-384, EC256, RSA2048 and the like, in any case.
// Alibaba's RSA_1024, ECC_512 and SM2_256 are refused with the reason.
func ParseAlgorithm(s string) (Algorithm, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.NewReplacer("-", "", "_", "", " ", "").Replace(t)
	switch t {
	case "ECC256", "EC256", "ECDSA256", "P256", "ECDSAP256", "ECP256":
		return ECC256, nil
	case "ECC384", "EC384", "ECDSA384", "P384", "ECDSAP384", "ECP384":
		return ECC384, nil
	case "RSA2048", "RSA":
		return RSA2048, nil
	case "RSA3072":
		return RSA3072, nil
	case "RSA4096":
		return RSA4096, nil
	case "RSA1024":
		return "", fmt.Errorf("%w algorithm %q: RSA keys under 2048 bits are too weak to issue", certs.ErrInvalid, s)
	case "ECC512", "ECC521", "P521":
		return "", fmt.Errorf("%w algorithm %q: P-521 is not supported (use ECC_256 or ECC_384)", certs.ErrInvalid, s)
	case "SM2256", "SM2":
		return "", fmt.Errorf("%w algorithm %q: SM2 is not supported", certs.ErrInvalid, s)
	}
	return "", fmt.Errorf("%w algorithm %q: want one of ECC_256, ECC_384, RSA_2048, RSA_3072, RSA_4096", certs.ErrInvalid, s)
}

// generate creates a key pair with cfssl's key generator.
func (a Algorithm) generate() (crypto.Signer, error) {
	kr, ok := algorithms[a]
	if !ok {
		return nil, fmt.Errorf("%w algorithm %q", certs.ErrInvalid, a)
	}
	priv, err := kr.Generate()
	if err != nil {
		return nil, fmt.Errorf("ca: generate %s key: %w", a, err)
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ca: generated %s key is not a crypto.Signer", a)
	}
	return s, nil
}

// checkPublicKey refuses keys we would not issue for (from a CSR).
func checkPublicKey(pub crypto.PublicKey) error {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
			return nil
		}
		return fmt.Errorf("%w CSR: unsupported elliptic curve %s", certs.ErrInvalid, k.Curve.Params().Name)
	case *rsa.PublicKey:
		if n := k.N.BitLen(); n < 2048 {
			return fmt.Errorf("%w CSR: RSA key of %d bits is too weak (need at least 2048)", certs.ErrInvalid, n)
		}
		if k.N.BitLen() > 8192 {
			return fmt.Errorf("%w CSR: RSA key of %d bits is larger than 8192", certs.ErrInvalid, k.N.BitLen())
		}
		return nil
	}
	return fmt.Errorf("%w CSR: unsupported public key type %T (want ECDSA or RSA)", certs.ErrInvalid, pub)
}
