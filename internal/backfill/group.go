package backfill

import (
	"context"
)

// GroupCommitter is a Store that can commit several pages in one
// transaction. When the Store implements it, Run commits deep-backfill pages
// (the fast path) of different series together: fewer commits, same safety,
// since each series still waits for its page's commit before fetching the
// next, so a crash refetches at most one page per series.
type GroupCommitter interface {
	CommitMany(ctx context.Context, cs []Commit) ([]Written, error)
}

type groupReq struct {
	c    Commit
	done chan groupRes
}

type groupRes struct {
	w   Written
	err error
}

// grouper collects fast-path commits that arrive while a transaction runs
// and writes them in the next one.
type grouper struct {
	store GroupCommitter
	max   int
	reqs  chan groupReq
}

func newGrouper(s GroupCommitter, maxPages int) *grouper {
	return &grouper{store: s, max: maxPages, reqs: make(chan groupReq)}
}

func (g *grouper) run(ctx context.Context) {
	for {
		var first groupReq
		select {
		case <-ctx.Done():
			return
		case first = <-g.reqs:
		}
		batch := []groupReq{first}
	drain:
		for len(batch) < g.max {
			select {
			case r := <-g.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		cs := make([]Commit, len(batch))
		for i, r := range batch {
			cs[i] = r.c
		}
		ws, err := g.store.CommitMany(ctx, cs)
		for i, r := range batch {
			res := groupRes{err: err}
			if err == nil {
				res.w = ws[i]
			}
			r.done <- res // buffered: never blocks
		}
	}
}

func (g *grouper) submit(ctx context.Context, c Commit) (Written, error) {
	done := make(chan groupRes, 1)
	select {
	case g.reqs <- groupReq{c: c, done: done}:
	case <-ctx.Done():
		return Written{}, ctx.Err()
	}
	select {
	case res := <-done:
		return res.w, res.err
	case <-ctx.Done():
		return Written{}, ctx.Err()
	}
}
