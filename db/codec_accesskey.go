package db

import (
	"github.com/certstatus/certstatus/certs"
)

// Access key field tags. Never reuse or renumber one.
const (
	kID = 1 + iota
	kSealedSecret
	kOwner
	kPolicy
	kQPS
	kDisabled
	kCreatedAt
)

func encodeAccessKey(k certs.AccessKey) []byte {
	e := newEncoder()
	e.str(kID, k.ID)
	e.bytes(kSealedSecret, k.SealedSecret)
	e.str(kOwner, k.Owner)
	e.str(kPolicy, k.Policy)
	e.uint(kQPS, uint64(k.QPS))
	e.bool(kDisabled, k.Disabled)
	e.time(kCreatedAt, k.CreatedAt)
	return e.b
}

func decodeAccessKey(b []byte) (certs.AccessKey, error) {
	var k certs.AccessKey
	b, err := body(b)
	if err != nil {
		return k, err
	}
	err = walk(b, func(f field) error {
		switch f.tag {
		case kID:
			k.ID = string(f.raw)
		case kSealedSecret:
			k.SealedSecret = clone(f.raw)
		case kOwner:
			k.Owner = string(f.raw)
		case kPolicy:
			k.Policy = string(f.raw)
		case kQPS:
			k.QPS = int(f.num)
		case kDisabled:
			k.Disabled = f.num != 0
		case kCreatedAt:
			k.CreatedAt = f.time()
		}
		return nil
	})
	return k, err
}
