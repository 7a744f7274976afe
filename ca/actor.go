package ca

import (
	"context"

	"github.com/certstatus/certstatus/certs"
)

// logActor returns the log attributes of who asked for a change: the
// AccessKeyId and RequestId of an API call, cli:<user>, system:…. The CA
// logs each state change once, with them; its callers do not log it again.
func logActor(ctx context.Context, args ...any) []any {
	a := certs.ActorFrom(ctx)
	if a.Who != "" {
		args = append(args, "actor", a.Who)
	}
	if a.RequestID != "" {
		args = append(args, "request_id", a.RequestID)
	}
	return args
}
