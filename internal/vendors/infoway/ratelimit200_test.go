package infoway

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
	"github.com/syncd/syncd/internal/vendors/transport"
)

// A rate-limit body must slow the governor down whatever HTTP status carries it.
func TestRateLimitDetailAnyStatus(t *testing.T) {
	t.Parallel()
	for _, status := range []int{200, 400, 429} {
		_, err := decodeEnvelope(transport.Response{Status: status, Body: []byte(`{"detail":"Rate limit exceeded"}`)})
		require.ErrorIs(t, err, vendor.ErrRateLimited, "HTTP %d", status)
	}
}
