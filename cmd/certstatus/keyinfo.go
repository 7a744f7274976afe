package main

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
)

func curveName(c *x509.Certificate) string {
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); ok {
		return k.Curve.Params().Name
	}
	return "?"
}

func rsaBits(c *x509.Certificate) int {
	if k, ok := c.PublicKey.(*rsa.PublicKey); ok {
		return k.N.BitLen()
	}
	return 0
}
