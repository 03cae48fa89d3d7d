package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/qortal-oidc/qortal-oidc/internal/config"
	"github.com/qortal-oidc/qortal-oidc/internal/oidcprovider"
)

const keysUsage = `Usage:
  qortal-oidc keys list   [--config FILE]   show the signing keys and their state
  qortal-oidc keys rotate [--config FILE]   publish a new key now; it signs after oidc.key_publish_lead

Flags:
  -config string
    	` + configFlagHelp + `
`

// runKeys lists or rotates the token signing keys in the store.
func runKeys(ctx context.Context, cfg config.Config, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 {
		fmt.Fprint(stderr, keysUsage)
		return errors.New("keys: want exactly one action")
	}
	st, err := openStore(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	km, err := oidcprovider.NewKeyManager(st, cfg, newLogger(cfg, stderr))
	if err != nil {
		return err
	}
	return keysAction(ctx, km, args[0], stdout, stderr)
}

func keysAction(ctx context.Context, km *oidcprovider.KeyManager, action string, stdout, stderr io.Writer) error {
	switch action {
	case "list":
		keys, err := km.List(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			retire := "-"
			if k.RetireAt != nil {
				retire = k.RetireAt.Format(time.RFC3339)
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\tsigns-from=%s\tretire-at=%s\n", k.ID, k.Algorithm, k.State,
				k.ActiveFrom.Format(time.RFC3339), retire)
		}
		return nil
	case "rotate":
		k, err := km.Rotate(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "new %s key %s published; it signs from %s\n", k.Algorithm, k.ID, k.ActiveFrom.Format(time.RFC3339))
		return nil
	}
	fmt.Fprint(stderr, keysUsage)
	return fmt.Errorf("keys: unknown action %q", action)
}
