package shopifyapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/storeline/storeline/shopifyapi"
)

// The shape of a bulk sync: start, wait, refuse anything incomplete, stream the lines, and
// check the download against the operation before the watermark may move.
func Example_bulkSync() {
	ctx := context.Background()
	c, err := shopifyapi.New(shopifyapi.Config{Shop: "northbound.myshopify.com", AccessToken: "shpat_…"})
	if err != nil {
		panic(err)
	}
	op, err := c.RunBulkQuery(ctx, `{ products(query: "updated_at:>='2026-01-01T00:00:00Z'") { edges { node {
		id title updatedAt variants { edges { node { id sku price updatedAt } } } } } } }`, false)
	if errors.Is(err, shopifyapi.ErrBulkOperationInProgress) {
		// Another operation holds the shop's slot: wait for it (CurrentBulkOperation, WaitBulk) and retry.
		return
	} else if err != nil {
		panic(err)
	}
	op, err = c.WaitBulk(ctx, op.ID, 5*time.Second)
	if err != nil {
		panic(err)
	}
	if err := op.CheckComplete(); err != nil {
		fmt.Println("not advancing the watermark:", err) // FAILED, partial data, canceled, expired
		return
	}
	if op.URL == "" {
		return // complete and empty: nothing matched
	}
	r, err := c.OpenResult(ctx, op.URL)
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for {
		line, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err) // resume later with OpenResultAt from the last handled line's Position
		}
		_ = line // emit an event for line.ID (line.Type), parented by line.ParentID
	}
	if err := op.CheckRead(r.Position()); err != nil {
		fmt.Println("not advancing the watermark:", err)
		return
	}
	// advance the watermark
}
