//go:build !chaos

package failpoint

// Hit does nothing: only the chaos build crashes at failpoints.
func Hit(Name) {}
