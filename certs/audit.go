package certs

import (
	"context"
	"time"
)

// AuditEvent is one entry of the hash-chained audit trail: every state
// change (issuance, revocation, deletion, CA and key changes) appends one
// in the same transaction as the change.
type AuditEvent struct {
	Seq       uint64 // 1, 2, 3, … without gaps
	Time      time.Time
	Actor     string // AccessKeyId, "cli:<user>" or "system:<part>"
	RequestID string // the API RequestId, when there is one
	Action    string // e.g. "certificate.issue", "ca.revoke", "accesskey.create"
	Subject   string // the identifier the action is about
	Details   string // human-readable facts (reason, serial, …); never a secret
	PrevHash  []byte // Hash of event Seq-1 (32 zero bytes for the first)
	Hash      []byte // SHA-256 over PrevHash and this event's fields
}

// Actor says who makes a change and under which request.
type Actor struct {
	Who       string
	RequestID string
}

type actorKey struct{}

// WithActor returns ctx carrying a, for the audit events of the changes
// made under it.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or "unknown".
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok && a.Who != "" {
		return a
	}
	return Actor{Who: "unknown"}
}
