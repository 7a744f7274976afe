package api

import (
	"context"
	"io"
	"net/url"
)

// ExtraAction is an action certstatus serves beyond Alibaba's, such as
// the command channel of its CLI (cmd/certstatus). It is authenticated,
// authorised (as yundun-cert:<Name>: no read-only policy allows a name
// outside Describe*, List* and Get*), throttled and audited like every
// other action; its nonce is kept durably, as a state-changing call's.
// Run gets the request's parameters and a context carrying the caller as
// actor; an error wrapping a certs sentinel becomes that error's Alibaba
// code, any other InternalError.
type ExtraAction func(ctx context.Context, params url.Values) (map[string]any, error)

func (x ExtraAction) action() action {
	return action{changes: true, run: func(s *Server, c *call) (resp, *Error) {
		out, err := x(c.ctx, c.p.v)
		if err != nil {
			return nil, s.fail(c, c.action, "", err)
		}
		return resp(out), nil
	}}
}

// StreamKey is the key under which an ExtraAction may return a Stream:
// the answer is then its bytes, application/octet-stream, with the
// RequestId in the x-acs-request-id header, instead of JSON.
const StreamKey = "Stream"

// Stream writes a binary answer (a database backup). The write deadline
// is lifted for it; an error once bytes have gone out aborts the
// connection, so that a client never mistakes a cut answer for a whole
// one.
type Stream func(ctx context.Context, w io.Writer) error
