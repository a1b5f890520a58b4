package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

const token = "s3cr3t-t0ken"

type countingGate struct {
	acquired int
	reported []error
}

func (g *countingGate) Acquire(ctx context.Context, _ vendor.Endpoint, _ int) (vendor.Sent, error) {
	g.acquired++
	return nil, ctx.Err()
}
func (g *countingGate) Report(_ vendor.Endpoint, err error) { g.reported = append(g.reported, err) }

func get(url string) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, url+"?token="+token, nil)
	}
}

func TestDoPassesGateAndReports(t *testing.T) {
	t.Parallel()
	agent := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		agent <- r.Header.Get("User-Agent")
		_, _ = w.Write([]byte(`{"ok":true}`))
	}))
	defer srv.Close()
	g := &countingGate{}
	c := New(Config{Vendor: "x", Gate: g, Secrets: []string{token}})
	var got string
	err := c.Do(context.Background(), vendor.EndpointHistory, 1, get(srv.URL), func(r Response) error {
		got = string(r.Body)
		return nil
	})
	require.NoError(t, err)
	require.Contains(t, <-agent, "syncd")
	require.Equal(t, `{"ok":true}`, got)
	require.Equal(t, 1, g.acquired)
	require.Equal(t, []error{nil}, g.reported)
}

func TestNetworkErrorIsTransientAndRedacted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	url := srv.URL
	srv.Close()
	c := New(Config{Vendor: "x", Secrets: []string{token}})
	err := c.Do(context.Background(), vendor.EndpointHistory, 1, get(url), func(Response) error { return nil })
	require.ErrorIs(t, err, vendor.ErrTransient)
	require.NotContains(t, err.Error(), token)
}

func TestTruncatedAndOversizeBodies(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/short" {
			w.Header().Set("Content-Length", "100")
			_, _ = w.Write([]byte(`{"a":`))
			return
		}
		_, _ = w.Write([]byte(strings.Repeat("x", 2000)))
	}))
	defer srv.Close()
	c := New(Config{Vendor: "x", MaxBody: 1000})
	noop := func(Response) error { return nil }
	err := c.Do(context.Background(), vendor.EndpointHistory, 1, get(srv.URL+"/short"), noop)
	require.ErrorIs(t, err, vendor.ErrTransient)
	err = c.Do(context.Background(), vendor.EndpointHistory, 1, get(srv.URL+"/big"), noop)
	require.ErrorIs(t, err, vendor.ErrProtocol)
}

func TestDecodeErrorGetsStatusAndRedaction(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	g := &countingGate{}
	c := New(Config{Vendor: "x", Gate: g, Secrets: []string{token}})
	err := c.Do(context.Background(), vendor.EndpointLatest, 3, get(srv.URL), func(r Response) error {
		return &vendor.APIError{Vendor: "x", Kind: StatusKind(r.Status), Message: "bad token " + token}
	})
	require.ErrorIs(t, err, vendor.ErrRateLimited)
	var ae *vendor.APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusTooManyRequests, ae.HTTPStatus)
	require.Equal(t, vendor.EndpointLatest, ae.Endpoint)
	require.Equal(t, 7*time.Second, ae.RetryAfter)
	require.NotContains(t, err.Error(), token)
	require.Len(t, g.reported, 1)
	require.ErrorIs(t, g.reported[0], vendor.ErrRateLimited)
}

func TestRedactURL(t *testing.T) {
	t.Parallel()
	out := RedactURL("https://u:p@h/x?token=abc&key=k&apikey=z&code=BTC")
	require.NotContains(t, out, "abc")
	require.NotContains(t, out, "=k")
	require.NotContains(t, out, "=z")
	require.NotContains(t, out, "u:p")
	require.Contains(t, out, "code=BTC")
}

func TestStatusKind(t *testing.T) {
	t.Parallel()
	require.NoError(t, StatusKind(200))
	require.ErrorIs(t, StatusKind(429), vendor.ErrRateLimited)
	require.ErrorIs(t, StatusKind(401), vendor.ErrAuth)
	require.ErrorIs(t, StatusKind(503), vendor.ErrTransient)
	require.ErrorIs(t, StatusKind(404), vendor.ErrProtocol)
}

func TestBaseURL(t *testing.T) {
	t.Parallel()
	got, err := BaseURL("", "https://api.example.com/")
	require.NoError(t, err)
	require.Equal(t, "https://api.example.com", got)
	got, err = BaseURL("http://127.0.0.1:9400//", "https://api.example.com")
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:9400", got)
	for _, bad := range []string{"ftp://h", "127.0.0.1:9400", "https://h/?token=abc", "https://u:pw@h", "http://"} {
		_, err := BaseURL(bad, "")
		require.Error(t, err, bad)
		require.NotContains(t, err.Error(), "abc")
		require.NotContains(t, err.Error(), "pw")
	}
}

func TestCap(t *testing.T) {
	t.Parallel()
	require.Equal(t, 100, Cap(0, 100))
	require.Equal(t, 100, Cap(-1, 100))
	require.Equal(t, 100, Cap(500, 100))
	require.Equal(t, 20, Cap(20, 100))
}

func TestDecoderErrorsAreRedacted(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"echo":"` + token + `"}`))
	}))
	t.Cleanup(srv.Close)
	c := New(Config{Vendor: "v", Secrets: []string{token}})
	build := func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	}
	for name, decode := range map[string]Decoder{
		"APIErrorCause": func(r Response) error {
			return &vendor.APIError{Vendor: "v", Kind: vendor.ErrProtocol, Err: fmt.Errorf("bad body %s: %w", r.Body, vendor.ErrProtocol)}
		},
		"PlainError": func(r Response) error { return fmt.Errorf("bad body %s: %w", r.Body, vendor.ErrProtocol) },
	} {
		err := c.Do(t.Context(), vendor.EndpointHistory, 1, build, decode)
		require.Error(t, err, name)
		require.NotContains(t, err.Error(), token, name)
		require.Contains(t, err.Error(), "[REDACTED]", name)
		require.ErrorIs(t, err, vendor.ErrProtocol, name)
	}
}

// sentGate hands out a Sent that counts its calls on a channel.
type sentGate struct{ sent chan struct{} }

func (g *sentGate) Acquire(ctx context.Context, _ vendor.Endpoint, _ int) (vendor.Sent, error) {
	var once sync.Once
	return func() { once.Do(func() { g.sent <- struct{}{} }) }, ctx.Err()
}
func (*sentGate) Report(vendor.Endpoint, error) {}

func TestGateLearnsTheSendMoment(t *testing.T) {
	t.Parallel()
	t.Run("WrittenBeforeTheAnswer", func(t *testing.T) {
		t.Parallel()
		g := &sentGate{sent: make(chan struct{}, 1)}
		sentFirst := make(chan bool, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			// The request has arrived, so it has left: the gate must know
			// before any answer comes back.
			select {
			case <-g.sent:
				sentFirst <- true
			case <-time.After(10 * time.Second):
				sentFirst <- false
			}
			_, _ = w.Write([]byte(`{}`))
		}))
		defer srv.Close()
		c := New(Config{Vendor: "x", Gate: g})
		require.NoError(t, c.Do(context.Background(), vendor.EndpointHistory, 1, get(srv.URL), func(Response) error { return nil }))
		require.True(t, <-sentFirst, "Sent was not called once the request was written")
	})
	t.Run("NeverLeft", func(t *testing.T) {
		t.Parallel()
		g := &sentGate{sent: make(chan struct{}, 1)}
		c := New(Config{Vendor: "x", Gate: g})
		err := c.Do(context.Background(), vendor.EndpointHistory, 1, func(context.Context) (*http.Request, error) {
			return nil, errors.New("bad parameters")
		}, func(Response) error { return nil })
		require.Error(t, err)
		require.Len(t, g.sent, 1, "a request that never leaves releases its slot")
	})
}
