package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// discoveryDocument holds the members of an OpenID Provider Configuration
// (OpenID Connect Discovery 1.0, section 3) that a Verifier uses.
type discoveryDocument struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// discover fetches the provider configuration of issuer and returns its
// jwks_uri. The document must name issuer exactly (section 4.3), so that a
// provider cannot vouch for another.
func discover(ctx context.Context, f *fetcher, issuer string) (string, error) {
	var doc discoveryDocument
	err := f.getJSON(ctx, "discovery document", strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &doc)
	switch {
	case errors.Is(err, errMalformed):
		return "", fmt.Errorf("%w: %w", ErrDiscovery, err)
	case err != nil:
		return "", err
	case doc.Issuer != issuer:
		return "", fmt.Errorf("%w: it names another issuer", ErrDiscovery)
	case doc.JWKSURI == "":
		return "", fmt.Errorf("%w: no jwks_uri", ErrDiscovery)
	}
	if err := checkURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("%w: jwks_uri is %w", ErrDiscovery, err)
	}
	return doc.JWKSURI, nil
}
