package events

//go:generate go run ./internal/eventgen
