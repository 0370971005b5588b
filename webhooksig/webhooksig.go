// Package webhooksig computes and checks Shopify's webhook signature: the base64 HMAC-SHA256 of
// the raw body under the app's client secret (header X-Shopify-Hmac-Sha256).
package webhooksig

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strings"
)

// Sign returns the X-Shopify-Hmac-Sha256 value for body.
func Sign(body []byte, secret string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// Verify reports, in constant time, whether signature is body's signature under any of the
// secrets (several during a secret rotation).
func Verify(body []byte, signature string, secrets [][]byte) bool {
	got, err := base64.StdEncoding.DecodeString(strings.TrimSpace(signature))
	if err != nil || len(got) != sha256.Size {
		return false
	}
	ok := false
	for _, secret := range secrets {
		m := hmac.New(sha256.New, secret)
		m.Write(body)
		// Every secret is tried, match or not, so timing says nothing about which one matched.
		if hmac.Equal(m.Sum(nil), got) {
			ok = true
		}
	}
	return ok
}
