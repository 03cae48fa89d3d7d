package qortalnode

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// Names lists the names registered to address (GET /names/address/{a}).
func (c *Client) Names(ctx context.Context, address string) ([]string, error) {
	var out []struct {
		Name  string `json:"name"`
		Owner string `json:"owner"`
	}
	if err := c.getJSON(ctx, "/names/address/"+url.PathEscape(address), &out); err != nil {
		return nil, err
	}
	names := make([]string, 0, len(out))
	for _, n := range out {
		if n.Name != "" && (n.Owner == "" || n.Owner == address) {
			names = append(names, n.Name)
		}
	}
	return names, nil
}

// Balance is the QORT balance of address as the node prints it (decimal
// text, 8 places), from GET /addresses/balance/{a}.
func (c *Client) Balance(ctx context.Context, address string) (string, error) {
	path := "/addresses/balance/" + url.PathEscape(address)
	s, err := c.getText(ctx, path)
	if err != nil {
		return "", err
	}
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return "", fmt.Errorf("%s: not a balance: %q", path, s[:min(len(s), 40)])
	}
	return s, nil
}
