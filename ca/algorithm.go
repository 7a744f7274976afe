package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"

	"github.com/cloudflare/cfssl/csr"

	"github.com/certstatus/certstatus/certs"
)

// algorithms maps each supported algorithm to cfssl's key generator.
var algorithms = map[certs.Algorithm]csr.KeyRequest{
	certs.ECC256:  {A: "ecdsa", S: 256},
	certs.ECC384:  {A: "ecdsa", S: 384},
	certs.RSA2048: {A: "rsa", S: 2048},
	certs.RSA3072: {A: "rsa", S: 3072},
	certs.RSA4096: {A: "rsa", S: 4096},
}

// generate creates a key pair with cfssl's key generator.
func generate(a certs.Algorithm) (crypto.Signer, error) {
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
