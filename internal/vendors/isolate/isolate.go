// Package isolate finds the codes a vendor refuses inside a batch request.
//
// Batch endpoints often refuse a whole request because one of its codes is
// unknown, and not every vendor says which. Sending each code alone would cost
// n requests of a rate-limited budget; bisecting costs O(k·log n) for k bad
// codes among n, and naming them from the refusal, where the vendor does,
// costs one retry.
package isolate

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/syncd/syncd/internal/vendor"
)

// Search says how to send a batch and what to do with what it finds. Send and
// Bad are required.
type Search[T comparable] struct {
	// Send sends one request for items. An error wrapping
	// vendor.ErrInvalidSymbol means the vendor refused the batch over a code.
	Send func(ctx context.Context, items []T) error
	// Bad is told each item found invalid, with the refusal that showed it.
	Bad func(item T, err error)
	// Named, when set, returns the items of a refused batch that the refusal
	// names; they are marked bad and the rest sent again without bisecting.
	Named func(err error, items []T) []T
	// Fatal reports whether err must stop the search (the other half is then
	// not sent); nil means Fatal.
	Fatal func(ctx context.Context, err error) bool
}

// Fatal is the default stop rule: ctx ended, or the vendor asked everything
// to slow down or refused the key. Sending more would only be refused too.
func Fatal(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, vendor.ErrRateLimited) ||
		errors.Is(err, vendor.ErrQuotaExhausted) || errors.Is(err, vendor.ErrAuth)
}

// Run sends items and isolates the invalid ones. It returns the first error
// that is not an invalid-code refusal (the search goes on past non-fatal ones)
// or nil.
func (s Search[T]) Run(ctx context.Context, items []T) error {
	if len(items) == 0 {
		return nil
	}
	err := s.Send(ctx, items)
	if err == nil || !errors.Is(err, vendor.ErrInvalidSymbol) {
		return err
	}
	if len(items) == 1 {
		s.Bad(items[0], err)
		return nil
	}
	if s.Named != nil {
		if named := s.Named(err, items); len(named) > 0 {
			rest := make([]T, 0, len(items))
			for _, it := range items {
				if slices.Contains(named, it) {
					s.Bad(it, err)
					continue
				}
				rest = append(rest, it)
			}
			if len(rest) == len(items) {
				// The refusal named nothing we sent: bisect instead of looping.
				return s.bisect(ctx, items)
			}
			return s.Run(ctx, rest)
		}
	}
	return s.bisect(ctx, items)
}

func (s Search[T]) bisect(ctx context.Context, items []T) error {
	fatal := s.Fatal
	if fatal == nil {
		fatal = Fatal
	}
	mid := len(items) / 2
	errL := s.Run(ctx, items[:mid])
	if errL != nil && fatal(ctx, errL) {
		return errL
	}
	return cmp.Or(s.Run(ctx, items[mid:]), errL)
}
