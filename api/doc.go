// Package api answers Alibaba Cloud's Certificate Management Service
// Private CA API (product cas, Version 2020-06-30, RPC style) from
// certstatus's records, so that the official Alibaba SDKs work against a
// self-hosted CA unchanged.
//
// A request is handled in the order Alibaba's gateway uses: parameters are
// merged from the query string and a form body; the AccessKey is looked up;
// the timestamp window, the signature (V1 HMAC-SHA1 or V3
// ACS3-HMAC-SHA256) and the nonce are checked; the action and version must
// exist; the key's RAM policy must allow yundun-cert:<Action>; the per-user
// QPS limit applies; then the action runs. Every response, success or
// error, carries a RequestId, and errors have Alibaba's JSON shape
// {RequestId, HostId, Code, Message, Recommend}.
//
// The package imports certs (and internal helpers), never db, ca or
// responder: it declares what it needs as small role interfaces, one per
// group of actions (StatusReader, CertReader, Changer, NonceStore, Revoker
// …), and their unions Store and Authority, into which cmd/certstatus
// wires *db.Store and *ca.Authority. Each handler reaches only its roles,
// so its unit test fakes a few methods; the tests on the real db and ca
// are the integration tests.
//
// # Caveats
//
// Nonces are remembered in memory for the timestamp window, so a replay is
// caught by the process that saw the first request (one process serves a
// data directory). ClientToken answers are kept in the store for 24 hours;
// a crash between a create and the token write can let a retry create a
// second certificate.
package api
