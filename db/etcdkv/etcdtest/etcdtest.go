// Package etcdtest starts a one-member etcd in the test process, on
// loopback, for the tests of the etcd engine (db/etcdkv) and of the
// store on it. It is imported by tests only.
package etcdtest

import (
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// MaxTxnOps is the member's limit of operations per transaction, raised
// from etcd's 128 so that tests' writes of thousands of keys fit one
// transaction. Engines on the member are given it too.
const MaxTxnOps = 8192

// Member starts an etcd member with its data in dir, listening on free
// loopback ports, logging nothing, and returns a client of it and the
// function that closes both. It returns once the member serves.
func Member(dir string) (cli *clientv3.Client, stop func(), err error) {
	cfg := embed.NewConfig()
	cfg.Name = "test"
	cfg.Dir = dir
	cfg.LogLevel = "error"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cfg.MaxTxnOps = MaxTxnOps
	peer, err := freeURL()
	if err != nil {
		return nil, nil, err
	}
	client, err := freeURL()
	if err != nil {
		return nil, nil, err
	}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("etcdtest: starting etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case <-time.After(10 * time.Second):
		e.Close()
		return nil, nil, fmt.Errorf("etcdtest: etcd did not start within 10 s")
	}
	cli, err = clientv3.New(clientv3.Config{Endpoints: []string{client.String()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		e.Close()
		return nil, nil, fmt.Errorf("etcdtest: %w", err)
	}
	return cli, func() { cli.Close(); e.Close() }, nil
}

// Start starts a member (Member) with its data in tb's temporary
// directory, closed at tb's end.
func Start(tb testing.TB) *clientv3.Client {
	tb.Helper()
	cli, stop, err := Member(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return cli
}

// freeURL returns an http URL on a loopback port that was free a moment
// ago.
func freeURL() (url.URL, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return url.URL{}, err
	}
	defer l.Close()
	return url.URL{Scheme: "http", Host: l.Addr().String()}, nil
}
