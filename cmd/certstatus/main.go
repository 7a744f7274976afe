// Command certstatus is a private certificate authority and status service:
// it issues and revokes certificates, keeps them in an embedded bbolt
// database, and answers "is this certificate still good?" over an Alibaba
// Cloud CAS-compatible JSON API and OCSP.
//
// Run "certstatus help" for the subcommands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "certstatus:", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
