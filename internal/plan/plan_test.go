package plan

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

func TestMinIntervalAndDay(t *testing.T) {
	t.Parallel()
	utc8 := time.FixedZone("UTC+8", 8*3600)
	p := Plan{
		Spacing:   map[vendor.Endpoint]time.Duration{vendor.EndpointLatest: 3 * time.Second, vendor.EndpointHistory: time.Second},
		PerSecond: 1, PerMinute: 60, ResetZone: utc8,
	}
	require.Equal(t, 3*time.Second, p.MinInterval(vendor.EndpointLatest))
	require.Equal(t, time.Second, p.MinInterval(vendor.EndpointTrades))
	at := time.Date(2026, 11, 23, 15, 59, 0, 0, time.UTC) // 23:59 UTC+8
	require.Equal(t, time.Date(2026, 11, 22, 16, 0, 0, 0, time.UTC), p.DayStart(at).UTC())
	require.Equal(t, time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC), p.NextReset(at).UTC())
	require.Equal(t, time.Date(2026, 11, 24, 16, 0, 0, 0, time.UTC), p.NextReset(at.Add(2*time.Minute)).UTC())
}
