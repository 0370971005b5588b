package shopify

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/storeline/storeline/events"
)

// BulkOperationFinish is a bulk_operations/finish webhook: a bulk operation of the app ended.
// It carries no result URL (Shopify's payload has none) and no sync run: storeline records no
// event for it (Translate returns ErrNoEvent, the gateway acknowledges and counts it). The bulk
// sync learns an operation's end by polling bulkOperation(id:), and records
// sync.BulkOperationCompleted or BulkOperationFailed itself, keyed by its run; the webhook could
// only wake it sooner.
type BulkOperationFinish struct {
	BulkOperationGID string     // admin_graphql_api_id, gid://shopify/BulkOperation/<id>
	Status           string     // COMPLETED, FAILED or CANCELED: upper-cased as in GraphQL
	ErrorCode        string     // GraphQL's BulkOperationErrorCode for FAILED, upper-cased; "" otherwise
	Type             string     // QUERY or MUTATION
	CreatedAt        *time.Time // nil when absent
	CompletedAt      *time.Time // nil when absent
}

// ParseBulkOperationFinish reads a bulk_operations/finish payload.
func ParseBulkOperationFinish(body []byte) (BulkOperationFinish, error) {
	var p struct {
		AdminGraphQLAPIID string  `json:"admin_graphql_api_id"`
		Status            string  `json:"status"`
		ErrorCode         *string `json:"error_code"`
		Type              string  `json:"type"`
		CreatedAt         *string `json:"created_at"`
		CompletedAt       *string `json:"completed_at"`
	}
	if err := decodeJSON(body, &p); err != nil {
		return BulkOperationFinish{}, err
	}
	if _, ok := gidID(p.AdminGraphQLAPIID, "BulkOperation"); !ok {
		return BulkOperationFinish{}, fmt.Errorf("%w: admin_graphql_api_id %q is not a bulk operation GID", ErrInvalidPayload, truncateForError(p.AdminGraphQLAPIID))
	}
	var c converter
	f := BulkOperationFinish{
		BulkOperationGID: p.AdminGraphQLAPIID,
		Status:           strings.ToUpper(p.Status),
		Type:             strings.ToUpper(p.Type),
		CreatedAt:        c.optTime(p.CreatedAt, "created_at"),
		CompletedAt:      c.optTime(p.CompletedAt, "completed_at"),
	}
	if p.ErrorCode != nil {
		f.ErrorCode = strings.ToUpper(*p.ErrorCode)
	}
	return f, c.err
}

func bulkOperationFinish(_ context.Context, d Delivery, _ Sealer) (events.Event, error) {
	f, err := ParseBulkOperationFinish(d.Body)
	if err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("%w: bulk operation %s ended %s", ErrNoEvent, f.BulkOperationGID, truncateForError(f.Status))
}
