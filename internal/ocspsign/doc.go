// Package ocspsign produces OCSP responses (RFC 6960 §4.2, RFC 9919,
// RFC 9654 nonces): the ResponderID, CertIDs, SingleResponse encoding,
// the signature and the validity window of every answer certstatus signs.
//
// It is the write side of OCSP. The CA (package ca) is its only writer of
// stored answers: it builds a Set of Signers from its CAs and their
// delegated responder certificates, signs the answers stored at issuance,
// in the revocation transaction and by the background refresh, and
// publishes the Set. The responder (package responder) is the read side:
// it matches a request's CertIDs against the published Set and signs only
// the answers it cannot serve stored (nonces, several CertIDs), never
// storing them.
//
// It imports certs and x/crypto only, so that neither side reaches the
// other through it.
package ocspsign
