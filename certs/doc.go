// Package certs is the domain vocabulary of certstatus: identifiers, serials,
// certificate kinds, stored states, answered statuses, RFC 5280 revocation
// reasons, the certificate, CA and access-key records, and the sentinel
// errors shared by every other package.
//
// It is the leaf of the package graph and imports the standard library only.
// The one decision function, [Record.StatusAt], lives here so that the JSON
// API and the OCSP responder cannot disagree about a certificate.
package certs
