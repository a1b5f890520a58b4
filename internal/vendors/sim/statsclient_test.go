package sim

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func TestFetchStats(t *testing.T) {
	t.Parallel()
	srv, err := New(Config{})
	require.NoError(t, err)
	srv.Core().Begin(t.Context(), vendor.AllTick, "k", vendor.EndpointHistory, 1)
	hs := httptest.NewServer(srv)
	defer hs.Close()
	snap, err := FetchStats(t.Context(), hs.Client(), hs.URL+"/")
	require.NoError(t, err)
	require.EqualValues(t, 1, snap.Total.Requests)

	notSim := httptest.NewServer(http.NotFoundHandler())
	defer notSim.Close()
	_, err = FetchStats(t.Context(), notSim.Client(), notSim.URL)
	require.ErrorContains(t, err, "HTTP 404")
}
