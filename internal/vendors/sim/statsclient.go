package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// FetchStats reads /_sim/stats from a simulator at baseURL, as tests that run
// syncd against it do to count what the vendor side saw.
func FetchStats(ctx context.Context, c *http.Client, baseURL string) (Snapshot, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(baseURL, "/")+"/_sim/stats", nil)
	if err != nil {
		return Snapshot{}, fmt.Errorf("fetch simulator stats: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return Snapshot{}, fmt.Errorf("fetch simulator stats: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Snapshot{}, fmt.Errorf("fetch simulator stats: HTTP %d", resp.StatusCode)
	}
	var snap Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&snap); err != nil {
		return Snapshot{}, fmt.Errorf("decode simulator stats: %w", err)
	}
	return snap, nil
}
