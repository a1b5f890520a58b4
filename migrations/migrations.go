// Package migrations embeds syncd's SQL migrations (goose format: one file per
// version with -- +goose Up / Down sections). It lives beside the files because
// //go:embed cannot reach a parent directory.
package migrations

import "embed"

//go:embed *.sql
var files embed.FS

// FS holds the migration files at its root.
var FS = files
