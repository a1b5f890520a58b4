// Package transport sends vendor requests over HTTP with the hygiene every
// vendor client needs: one tuned http.Client, the quota gate before each
// attempt, bodies read through a size limit and always drained and closed,
// a User-Agent, and secrets redacted from every error.
//
// A Caller makes exactly one attempt per Do. Retrying is the engines' choice,
// and every retry passes through the gate again like a first attempt.
package transport

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/syncd/syncd/internal/vendor"
)

// DefaultMaxBody bounds a response body. A 500-bar page is about 100 KiB; a
// 500-group latest batch about 150 KiB.
const DefaultMaxBody = 8 << 20

// DefaultTimeout bounds one request from dial to the last body byte.
const DefaultTimeout = 30 * time.Second

// UserAgent identifies syncd to vendors.
var UserAgent = "syncd/dev (+https://github.com/syncd/syncd)"

// NewHTTPClient returns an http.Client tuned for a few vendor hosts: keep-alive,
// bounded dial, TLS and header waits, and an overall timeout.
func NewHTTPClient(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Config sets up a Caller. Zero values take the documented defaults.
type Config struct {
	// Vendor names the vendor in errors (required).
	Vendor string
	// HTTPClient sends requests; nil means NewHTTPClient(DefaultTimeout).
	HTTPClient *http.Client
	// Gate is passed before every attempt; nil means vendor.Open{}.
	Gate vendor.Gate
	// MaxBody bounds a body; 0 means DefaultMaxBody. A larger body is an
	// ErrProtocol failure.
	MaxBody int64
	// Secrets are redacted from every error text (the token, in clear).
	Secrets []string
}

// Caller sends requests for one vendor.
type Caller struct {
	vendor  string
	client  *http.Client
	gate    vendor.Gate
	maxBody int64
	secrets []string
}

// New returns a Caller.
func New(cfg Config) *Caller {
	c := &Caller{vendor: cfg.Vendor, client: cfg.HTTPClient, gate: cfg.Gate, maxBody: cfg.MaxBody}
	if c.client == nil {
		c.client = NewHTTPClient(DefaultTimeout)
	}
	if c.gate == nil {
		c.gate = vendor.Open{}
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBody
	}
	for _, s := range cfg.Secrets {
		if s != "" {
			c.secrets = append(c.secrets, s, url.QueryEscape(s))
		}
	}
	return c
}

// Response is a fully read HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decoder turns a response into the caller's result. It returns nil, or an
// error wrapping one of the vendor sentinels (usually an *vendor.APIError).
type Decoder func(Response) error

// Do passes the gate for ep with items, sends the request that build makes,
// reads the body, calls decode with it, and reports the outcome to the gate.
// It tells the gate the moment the request has been written to the
// connection (vendor.Sent), so the gate spaces requests by when they left
// rather than by when they were granted; a request that never leaves is
// released when Do gives up on it.
// Network failures, timeouts and truncated bodies become ErrTransient; a body
// over the limit becomes ErrProtocol; ctx cancellation returns ctx's error.
// Every error text is free of the configured secrets.
func (c *Caller) Do(ctx context.Context, ep vendor.Endpoint, items int, build func(context.Context) (*http.Request, error), decode Decoder) error {
	sent, err := c.gate.Acquire(ctx, ep, items)
	if err != nil {
		return err
	}
	if sent == nil {
		sent = func() {}
	}
	err = c.do(ctx, ep, sent, build, decode)
	sent() // the request never went out (or already did: then this is a no-op)
	if ctx.Err() != nil && err != nil {
		// Cancellation is not the vendor's doing; do not count it against them.
		return ctx.Err()
	}
	c.gate.Report(ep, err)
	return err
}

func (c *Caller) do(ctx context.Context, ep vendor.Endpoint, sent vendor.Sent, build func(context.Context) (*http.Request, error), decode Decoder) error {
	req, err := build(ctx)
	if err != nil {
		return fmt.Errorf("build %s request: %s", ep, c.Redact(err.Error()))
	}
	req.Header.Set("User-Agent", UserAgent)
	if req.Header.Get("Accept") == "" {
		req.Header.Set("Accept", "application/json")
	}
	// WroteRequest fires once the request is flushed to the connection: the
	// bytes have left, and the vendor sees them one network trip later. How
	// much that trip varies between two requests is what the gate's margin
	// still covers. (If net/http silently resends on a fresh connection after
	// an idle one turned out dead, the first write counts, a little early:
	// rare, and a dead connection's bytes reached no vendor anyway.)
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { sent() },
	}))
	resp, err := c.client.Do(req)
	if err != nil {
		return c.apiError(ep, 0, vendor.ErrTransient, errors.New(c.Redact(unwrapURLError(err))))
	}
	defer func() {
		// Drain a bounded remainder so the connection can be reused, then close.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
	}()
	body, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBody+1))
	if err != nil {
		return c.apiError(ep, resp.StatusCode, vendor.ErrTransient, fmt.Errorf("read body: %s", c.Redact(err.Error())))
	}
	if int64(len(body)) > c.maxBody {
		return c.apiError(ep, resp.StatusCode, vendor.ErrProtocol, fmt.Errorf("body larger than %d bytes", c.maxBody))
	}
	if resp.ContentLength >= 0 && int64(len(body)) < resp.ContentLength {
		return c.apiError(ep, resp.StatusCode, vendor.ErrTransient, fmt.Errorf("truncated body: %d of %d bytes", len(body), resp.ContentLength))
	}
	r := Response{Status: resp.StatusCode, Header: resp.Header, Body: body}
	if err := decode(r); err != nil {
		return c.complete(err, ep, resp)
	}
	return nil
}

// complete fills in what a decoder's APIError leaves out (status, endpoint,
// Retry-After) and scrubs secrets from the error.
func (c *Caller) complete(err error, ep vendor.Endpoint, resp *http.Response) error {
	var ae *vendor.APIError
	if !errors.As(err, &ae) {
		return c.redactErr(err)
	}
	if ae.HTTPStatus == 0 {
		ae.HTTPStatus = resp.StatusCode
	}
	if ae.Endpoint == "" {
		ae.Endpoint = ep
	}
	if ae.RetryAfter == 0 {
		ae.RetryAfter = RetryAfter(resp.Header)
	}
	ae.Message = c.Redact(ae.Message)
	if ae.Err != nil {
		ae.Err = c.redactErr(ae.Err)
	}
	// A wrapper around the APIError fixed its text when it was made.
	return c.redactErr(err)
}

// redactErr returns err, or when its text holds a secret (a decoder quoting a
// body in which the vendor echoed the key) an error with the text redacted
// that still unwraps to err, so classification survives.
func (c *Caller) redactErr(err error) error {
	text := err.Error()
	if red := c.Redact(text); red != text {
		return redacted{text: red, err: err}
	}
	return err
}

type redacted struct {
	text string
	err  error
}

func (r redacted) Error() string { return r.text }
func (r redacted) Unwrap() error { return r.err }

func unwrapURLError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		// url.Error's text holds the full URL, query token included.
		return ue.Op + " " + RedactURL(ue.URL) + ": " + ue.Err.Error()
	}
	return err.Error()
}

func (c *Caller) apiError(ep vendor.Endpoint, status int, kind error, cause error) *vendor.APIError {
	return &vendor.APIError{Vendor: c.vendor, Endpoint: ep, HTTPStatus: status, Kind: kind, Err: cause}
}

// Redact removes the configured secrets from s.
func (c *Caller) Redact(s string) string {
	for _, sec := range c.secrets {
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
	}
	return s
}

// RedactURL replaces the values of the query parameters token, key, apikey and
// api_key in a URL text with [REDACTED].
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "[unparseable URL]"
	}
	q := u.Query()
	changed := false
	for k := range q {
		switch strings.ToLower(k) {
		case "token", "key", "apikey", "api_key":
			q.Set(k, "[REDACTED]")
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	u.User = nil
	return u.String()
}

// RetryAfter reads a Retry-After header in seconds or as an HTTP date; 0 if absent.
func RetryAfter(h http.Header) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := time.Until(t); d > 0 {
			return d
		}
	}
	return 0
}

// StatusKind classifies a non-2xx HTTP status when the body says nothing more
// specific: 429 rate limited, 401/403 auth, 5xx and 408 transient, anything
// else a protocol error. It returns nil for 2xx.
func StatusKind(status int) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status == http.StatusTooManyRequests:
		return vendor.ErrRateLimited
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return vendor.ErrAuth
	case status >= 500 || status == http.StatusRequestTimeout:
		return vendor.ErrTransient
	}
	return vendor.ErrProtocol
}

// Clip shortens a vendor message or body excerpt for an error text.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// BaseURL returns raw (or def when raw is empty) without trailing slashes,
// after checking it is an http(s) URL with a host and no query: credentials
// belong in the Config's token, not in a URL that ends up in logs.
func BaseURL(raw, def string) (string, error) {
	base := strings.TrimRight(cmp.Or(raw, def), "/")
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("base URL %q is not an http(s) URL without credentials or query", RedactURL(base))
	}
	return base, nil
}

// Cap returns v limited to 1..most, with v ≤ 0 meaning most: how the clients
// turn an optional plan cap into the number they use.
func Cap(v, most int) int {
	if v <= 0 || v > most {
		return most
	}
	return v
}
