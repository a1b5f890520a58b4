package isolate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/syncd/syncd/internal/vendor"
)

// fakeVendor refuses any batch holding a bad code, optionally naming them;
// a batch with no bad code fails with fail[code] for any code it holds.
type fakeVendor struct {
	bad   []int
	name  bool
	fail  map[int]error
	sends [][]int
	found []int
}

var errNamed = errors.New("named")

func (f *fakeVendor) send(_ context.Context, items []int) error {
	f.sends = append(f.sends, slices.Clone(items))
	var hit []int
	for _, it := range items {
		if slices.Contains(f.bad, it) {
			hit = append(hit, it)
		}
	}
	if len(hit) == 0 {
		for _, it := range items {
			if err := f.fail[it]; err != nil {
				return err
			}
		}
		return nil
	}
	if f.name {
		return fmt.Errorf("%w: %w %v", vendor.ErrInvalidSymbol, errNamed, hit)
	}
	return vendor.ErrInvalidSymbol
}

func (f *fakeVendor) search() Search[int] {
	s := Search[int]{Send: f.send, Bad: func(it int, _ error) { f.found = append(f.found, it) }}
	if f.name {
		s.Named = func(err error, items []int) []int {
			if !errors.Is(err, errNamed) {
				return nil
			}
			return slices.DeleteFunc(slices.Clone(items), func(it int) bool { return !slices.Contains(f.bad, it) })
		}
	}
	return s
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestRun(t *testing.T) {
	t.Parallel()

	t.Run("AllGoodIsOneRequest", func(t *testing.T) {
		t.Parallel()
		f := &fakeVendor{}
		require.NoError(t, f.search().Run(t.Context(), seq(64)))
		require.Len(t, f.sends, 1)
		require.Empty(t, f.found)
	})

	t.Run("BisectionFindsEveryBadCodeCheaply", func(t *testing.T) {
		t.Parallel()
		f := &fakeVendor{bad: []int{3, 40}}
		require.NoError(t, f.search().Run(t.Context(), seq(64)))
		slices.Sort(f.found)
		require.Equal(t, []int{3, 40}, f.found)
		// k bad codes among n cost about 2·k·log2(n) requests, far below n.
		require.LessOrEqual(t, len(f.sends), 2*2*6+1)
		sent := map[int]bool{}
		for _, s := range f.sends {
			if len(s) == 1 || !slices.ContainsFunc(s, func(it int) bool { return slices.Contains(f.bad, it) }) {
				for _, it := range s {
					sent[it] = true
				}
			}
		}
		require.Len(t, sent, 64, "every good code is sent in a batch that succeeds")
	})

	t.Run("NamedCodesCostOneRetry", func(t *testing.T) {
		t.Parallel()
		f := &fakeVendor{bad: []int{5, 9}, name: true}
		require.NoError(t, f.search().Run(t.Context(), seq(20)))
		require.Equal(t, []int{5, 9}, f.found)
		require.Len(t, f.sends, 2)
		require.NotContains(t, f.sends[1], 5)
	})

	t.Run("EveryCodeBad", func(t *testing.T) {
		t.Parallel()
		f := &fakeVendor{bad: seq(8)}
		require.NoError(t, f.search().Run(t.Context(), seq(8)))
		require.Len(t, f.found, 8)
	})

	t.Run("FatalStopsTheSearch", func(t *testing.T) {
		t.Parallel()
		f := &fakeVendor{bad: []int{7}, fail: map[int]error{1: vendor.ErrRateLimited}}
		err := f.search().Run(t.Context(), seq(8))
		require.ErrorIs(t, err, vendor.ErrRateLimited)
		for _, s := range f.sends {
			require.False(t, slices.Contains(s, 7) && len(s) < 8, "the half after a rate limit is not sent")
		}
	})

	t.Run("OtherErrorsDoNotStopTheSearch", func(t *testing.T) {
		t.Parallel()
		boom := errors.New("boom")
		f := &fakeVendor{bad: []int{7}, fail: map[int]error{1: boom}}
		err := f.search().Run(t.Context(), seq(8))
		require.ErrorIs(t, err, boom)
		require.Equal(t, []int{7}, f.found)
	})

	t.Run("CustomFatal", func(t *testing.T) {
		t.Parallel()
		f := &fakeVendor{bad: []int{7}, fail: map[int]error{1: vendor.ErrAuth}}
		s := f.search()
		s.Fatal = func(context.Context, error) bool { return false }
		require.ErrorIs(t, s.Run(t.Context(), seq(8)), vendor.ErrAuth)
		require.Equal(t, []int{7}, f.found)
	})

	t.Run("Empty", func(t *testing.T) {
		t.Parallel()
		f := &fakeVendor{}
		require.NoError(t, f.search().Run(t.Context(), nil))
		require.Empty(t, f.sends)
	})
}

func TestFatal(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	require.False(t, Fatal(ctx, vendor.ErrTransient))
	require.True(t, Fatal(ctx, fmt.Errorf("x: %w", vendor.ErrRateLimited)))
	require.True(t, Fatal(ctx, vendor.ErrQuotaExhausted))
	require.True(t, Fatal(ctx, vendor.ErrAuth))
	cancel()
	require.True(t, Fatal(ctx, vendor.ErrTransient))
}
