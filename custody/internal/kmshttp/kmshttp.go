// Package kmshttp holds what the custody drivers that speak HTTPS and JSON
// to their key service themselves (hashivault, gcpkms) share: one POST with
// a bounded response, and the error that reports a refusal without echoing
// what was sent; and, for those drivers and azurekeyvault, the cleaning of
// a message a service returned.
//
// A request body carries key bytes, and the request carries a token:
// neither ever appears in an error of this package, which names only the
// URL (built from a recipient's public URL and the configured address), the
// HTTP status and what the service said.
package kmshttp

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxResponse bounds the body read from a service: a wrapped or unwrapped
// key and its envelope fit in a few kilobytes.
const MaxResponse = 1 << 20

// A StatusError is a response whose status is not 2xx. Body is its start,
// for the driver to take the service's own message from; it is never
// printed whole.
type StatusError struct {
	Status int    // the HTTP status code
	Body   []byte // at most MaxResponse bytes of the response body
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("HTTP %d %s", e.Status, http.StatusText(e.Status))
}

// Post sends in as JSON to url with header set on the request, and decodes
// the JSON of a 2xx response into out. The request is bound to ctx. A
// non-2xx response is a *StatusError; an oversized or malformed body is an
// error that quotes none of it.
func Post(ctx context.Context, client *http.Client, url string, header http.Header, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return err
	}
	defer clear(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponse+1))
	defer clear(data)
	if err != nil {
		return fmt.Errorf("reading the response: %w", err)
	}
	if len(data) > MaxResponse {
		return fmt.Errorf("the response is larger than %d bytes: refused", MaxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &StatusError{Status: resp.StatusCode, Body: bytes.Clone(data)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("the response (HTTP %d, %d bytes) is not the JSON expected", resp.StatusCode, len(data))
	}
	return nil
}

// NoRedirects is an http.Client CheckRedirect that follows none: the key
// services answer where they are asked, and a redirect would carry the
// request, and its credentials, elsewhere.
func NoRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Message cleans a message a service returned for an error: control
// characters become spaces and it is cut to a length that fits a line.
func Message(s string) string {
	r := []rune(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, strings.TrimSpace(s)))
	const max = 300
	if len(r) > max {
		return string(r[:max]) + "..."
	}
	return string(r)
}
