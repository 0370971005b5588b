package shopifyapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// BulkOperationStatus is Shopify's BulkOperationStatus.
type BulkOperationStatus string

// The statuses of a bulk operation. COMPLETED, FAILED, CANCELED and EXPIRED are terminal.
const (
	BulkCreated   BulkOperationStatus = "CREATED"
	BulkRunning   BulkOperationStatus = "RUNNING"
	BulkCompleted BulkOperationStatus = "COMPLETED"
	BulkCanceling BulkOperationStatus = "CANCELING"
	BulkCanceled  BulkOperationStatus = "CANCELED"
	BulkFailed    BulkOperationStatus = "FAILED"
	BulkExpired   BulkOperationStatus = "EXPIRED"
)

// Terminal tells whether the operation will not change any more.
func (s BulkOperationStatus) Terminal() bool {
	switch s {
	case BulkCompleted, BulkFailed, BulkCanceled, BulkExpired:
		return true
	}
	return false
}

// BulkOperation is Shopify's BulkOperation object. The counts, which Shopify serializes as
// strings (UnsignedInt64), are parsed.
type BulkOperation struct {
	ID              string              // gid://shopify/BulkOperation/<n>
	Status          BulkOperationStatus //
	Type            string              // QUERY or MUTATION
	ErrorCode       string              // ACCESS_DENIED, INTERNAL_SERVER_ERROR, TIMEOUT; "" unless failed
	CreatedAt       time.Time           //
	CompletedAt     time.Time           // zero until the operation ends
	ObjectCount     int64               // every object processed so far, nested ones included
	RootObjectCount int64               // root objects processed so far
	FileSize        int64               // bytes of the file at URL; 0 until known
	URL             string              // the JSONL result, once COMPLETED with data; expires after 7 days
	PartialDataURL  string              // what a FAILED operation managed to write: never the whole answer
	Query           string              // the bulk query
}

type bulkOperationJSON struct {
	ID              string              `json:"id"`
	Status          BulkOperationStatus `json:"status"`
	Type            string              `json:"type"`
	ErrorCode       *string             `json:"errorCode"`
	CreatedAt       *time.Time          `json:"createdAt"`
	CompletedAt     *time.Time          `json:"completedAt"`
	ObjectCount     uint64String        `json:"objectCount"`
	RootObjectCount uint64String        `json:"rootObjectCount"`
	FileSize        uint64String        `json:"fileSize"`
	URL             *string             `json:"url"`
	PartialDataURL  *string             `json:"partialDataUrl"`
	Query           string              `json:"query"`
}

// UnmarshalJSON reads Shopify's BulkOperation, with its string-encoded counts.
func (b *BulkOperation) UnmarshalJSON(data []byte) error {
	var w bulkOperationJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*b = BulkOperation{
		ID: w.ID, Status: w.Status, Type: w.Type, ErrorCode: deref(w.ErrorCode),
		ObjectCount: int64(w.ObjectCount), RootObjectCount: int64(w.RootObjectCount), FileSize: int64(w.FileSize),
		URL: deref(w.URL), PartialDataURL: deref(w.PartialDataURL), Query: w.Query,
	}
	if w.CreatedAt != nil {
		b.CreatedAt = *w.CreatedAt
	}
	if w.CompletedAt != nil {
		b.CompletedAt = *w.CompletedAt
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// uint64String is an UnsignedInt64: a JSON string of digits (a bare number and null are
// accepted too). It must fit an int64.
type uint64String int64

func (u *uint64String) UnmarshalJSON(data []byte) error {
	s := string(bytes.Trim(data, `"`))
	if s == "null" || s == "" {
		*u = 0
		return nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("shopifyapi: %s is not an UnsignedInt64 within int64", data)
	}
	*u = uint64String(n)
	return nil
}

// Complete tells whether the operation's result is the whole answer to its query: COMPLETED,
// no partialDataUrl, and a result URL (or nothing to download: Shopify gives no URL when the
// query matched no object). Anything else must not advance a sync's watermark. See
// CheckComplete for the reason, and CheckRead for the download itself.
func (b BulkOperation) Complete() bool { return b.CheckComplete() == nil }

// CheckComplete is Complete with the reason: nil, or an error wrapping ErrIncompleteResult.
func (b BulkOperation) CheckComplete() error {
	switch {
	case b.PartialDataURL != "":
		return fmt.Errorf("%w: operation %s is %s (%s) with partial data only", ErrIncompleteResult, b.ID, b.Status, orNone(b.ErrorCode))
	case b.Status != BulkCompleted:
		return fmt.Errorf("%w: operation %s is %s (%s)", ErrIncompleteResult, b.ID, b.Status, orNone(b.ErrorCode))
	case b.URL == "" && b.ObjectCount > 0:
		return fmt.Errorf("%w: operation %s completed with %d objects but no result URL", ErrIncompleteResult, b.ID, b.ObjectCount)
	}
	return nil
}

// CheckRead checks a complete operation against what reading its result yielded: end is the
// reader's Position at io.EOF. Fewer bytes than fileSize, no line at all from a non-zero
// objectCount, or fewer lines than root objects mean the download lost data, however cleanly
// it ended. (Only lower bounds are checked: fileSize may count the stored, compressed file.)
func (b BulkOperation) CheckRead(end Position) error {
	if err := b.CheckComplete(); err != nil {
		return err
	}
	switch {
	case b.FileSize > 0 && end.Offset < b.FileSize:
		return fmt.Errorf("%w: read %d bytes of operation %s's %d", ErrIncompleteResult, end.Offset, b.ID, b.FileSize)
	case b.ObjectCount > 0 && end.Line == 0:
		return fmt.Errorf("%w: operation %s reported %d objects, its result has no line", ErrIncompleteResult, b.ID, b.ObjectCount)
	case end.Line < b.RootObjectCount:
		return fmt.Errorf("%w: operation %s reported %d root objects, its result has %d lines", ErrIncompleteResult, b.ID, b.RootObjectCount, end.Line)
	}
	return nil
}

func orNone(code string) string {
	if code == "" {
		return "no error code"
	}
	return code
}

// BulkConcurrencyLimit is how many bulk query operations an app may run at once on a shop in
// an API version: 1 before 2026-01, 5 from it. A caller that needs more waits for one to end
// (RunBulkQuery returns ErrBulkOperationInProgress when the limit is reached anyway, e.g.
// because another process started one).
func BulkConcurrencyLimit(apiVersion string) int {
	if versionAtLeast(apiVersion, "2026-01") {
		return 5
	}
	return 1
}

// BulkConcurrencyLimit is the limit of the client's API version.
func (c *Client) BulkConcurrencyLimit() int { return BulkConcurrencyLimit(c.version) }

const bulkOperationFields = `id status type errorCode createdAt completedAt objectCount rootObjectCount fileSize url partialDataUrl query`

// RunBulkQuery starts a bulk query (bulkOperationRunQuery) and returns the new operation,
// usually CREATED. query is the bulk query document, e.g. `{ products { edges { node { id } } } }`.
//
// groupObjects asks Shopify to put children right after their parents; it is slower and
// fails more, and the result reader does not need it (it never assumes line order). It is
// sent from 2025-07, the first version with the argument; older versions always group.
//
// Refused input comes back as a *MutationError; when the refusal is the concurrency limit,
// the error also matches ErrBulkOperationInProgress. If an earlier attempt's answer was lost
// the operation may have started anyway: CurrentBulkOperation finds it.
func (c *Client) RunBulkQuery(ctx context.Context, query string, groupObjects bool) (BulkOperation, error) {
	var mutation string
	vars := map[string]any{"query": query}
	if versionAtLeast(c.version, "2025-07") {
		mutation = `mutation storelineBulkRun($query: String!, $groupObjects: Boolean!) {
  bulkOperationRunQuery(query: $query, groupObjects: $groupObjects) {
    bulkOperation { ` + bulkOperationFields + ` }
    userErrors { field message code }
  }
}`
		vars["groupObjects"] = groupObjects
	} else {
		mutation = `mutation storelineBulkRun($query: String!) {
  bulkOperationRunQuery(query: $query) {
    bulkOperation { ` + bulkOperationFields + ` }
    userErrors { field message code }
  }
}`
	}
	var out struct {
		BulkOperationRunQuery struct {
			BulkOperation *BulkOperation `json:"bulkOperation"`
			UserErrors    []UserError    `json:"userErrors"`
		} `json:"bulkOperationRunQuery"`
	}
	if err := c.Do(ctx, mutation, vars, &out); err != nil {
		return BulkOperation{}, err
	}
	p := out.BulkOperationRunQuery
	if err := CheckUserErrors("bulkOperationRunQuery", p.UserErrors); err != nil {
		if inProgress(p.UserErrors) {
			return BulkOperation{}, fmt.Errorf("%w: shop %s: %w", ErrBulkOperationInProgress, c.shop, err)
		}
		return BulkOperation{}, err
	}
	if p.BulkOperation == nil {
		return BulkOperation{}, fmt.Errorf("shopifyapi: shop %s: bulkOperationRunQuery returned no operation and no error", c.shop)
	}
	return *p.BulkOperation, nil
}

func inProgress(errs []UserError) bool {
	for _, e := range errs {
		if e.Code == "OPERATION_IN_PROGRESS" || e.Code == "LIMIT_REACHED" ||
			strings.Contains(strings.ToLower(e.Message), "already in progress") {
			return true
		}
	}
	return false
}

// BulkOperation fetches the operation with id: bulkOperation(id:) from 2026-01, node(id:)
// before. ErrBulkOperationNotFound if Shopify knows no such operation.
func (c *Client) BulkOperation(ctx context.Context, id string) (BulkOperation, error) {
	var query string
	if versionAtLeast(c.version, "2026-01") {
		query = `query storelineBulkOp($id: ID!) { bulkOperation(id: $id) { ` + bulkOperationFields + ` } }`
	} else {
		query = `query storelineBulkOp($id: ID!) { node(id: $id) { ... on BulkOperation { ` + bulkOperationFields + ` } } }`
	}
	var out struct {
		BulkOperation *BulkOperation `json:"bulkOperation"`
		Node          *BulkOperation `json:"node"`
	}
	if err := c.Do(ctx, query, map[string]any{"id": id}, &out); err != nil {
		return BulkOperation{}, err
	}
	op := out.BulkOperation
	if op == nil {
		op = out.Node
	}
	if op == nil || op.ID == "" {
		return BulkOperation{}, fmt.Errorf("%w: shop %s: %s", ErrBulkOperationNotFound, c.shop, id)
	}
	return *op, nil
}

// CurrentBulkOperation fetches the app's most recent bulk query operation on the shop
// (currentBulkOperation(type: QUERY)), running or not. ErrBulkOperationNotFound if there is
// none.
func (c *Client) CurrentBulkOperation(ctx context.Context) (BulkOperation, error) {
	query := `query storelineCurrentBulkOp { currentBulkOperation(type: QUERY) { ` + bulkOperationFields + ` } }`
	var out struct {
		CurrentBulkOperation *BulkOperation `json:"currentBulkOperation"`
	}
	if err := c.Do(ctx, query, nil, &out); err != nil {
		return BulkOperation{}, err
	}
	if out.CurrentBulkOperation == nil {
		return BulkOperation{}, fmt.Errorf("%w: shop %s has no current bulk query", ErrBulkOperationNotFound, c.shop)
	}
	return *out.CurrentBulkOperation, nil
}

// CancelBulkOperation asks Shopify to cancel the operation (bulkOperationCancel). The
// operation goes through CANCELING to CANCELED (or ends otherwise, if it was about to);
// WaitBulk sees it end.
func (c *Client) CancelBulkOperation(ctx context.Context, id string) (BulkOperation, error) {
	mutation := `mutation storelineBulkCancel($id: ID!) {
  bulkOperationCancel(id: $id) {
    bulkOperation { ` + bulkOperationFields + ` }
    userErrors { field message }
  }
}`
	var out struct {
		BulkOperationCancel struct {
			BulkOperation *BulkOperation `json:"bulkOperation"`
			UserErrors    []UserError    `json:"userErrors"`
		} `json:"bulkOperationCancel"`
	}
	if err := c.Do(ctx, mutation, map[string]any{"id": id}, &out); err != nil {
		return BulkOperation{}, err
	}
	p := out.BulkOperationCancel
	if err := CheckUserErrors("bulkOperationCancel", p.UserErrors); err != nil {
		return BulkOperation{}, err
	}
	if p.BulkOperation == nil {
		return BulkOperation{}, fmt.Errorf("%w: shop %s: %s", ErrBulkOperationNotFound, c.shop, id)
	}
	return *p.BulkOperation, nil
}

// maxPollInterval caps WaitBulk's backoff: a bulk query can run for hours, but its end should
// not go unnoticed for long.
const maxPollInterval = 30 * time.Second

// WaitBulk polls the operation with id until it reaches a terminal status and returns it.
// The first poll is immediate; the interval starts at pollEvery (default 1s) and grows by
// half each time up to 30s (or pollEvery, if larger). A terminal operation is returned with
// a nil error whether it completed or not: ask it Complete. An error (the context, or a poll
// that failed after the client's retries) leaves the operation running on Shopify: wait for
// it again with the same id.
func (c *Client) WaitBulk(ctx context.Context, id string, pollEvery time.Duration) (BulkOperation, error) {
	return c.WaitBulkNotify(ctx, id, pollEvery, nil)
}

// WaitBulkNotify is WaitBulk that also polls at once whenever wake receives (e.g. on a
// bulk_operations/finish webhook for the shop), resetting the interval. Polling goes on
// beside it, since webhooks can be late or lost.
func (c *Client) WaitBulkNotify(ctx context.Context, id string, pollEvery time.Duration, wake <-chan struct{}) (BulkOperation, error) {
	if pollEvery <= 0 {
		pollEvery = time.Second
	}
	ceiling := max(pollEvery, maxPollInterval)
	interval := pollEvery
	for {
		op, err := c.BulkOperation(ctx, id)
		if err != nil {
			return op, err
		}
		if op.Status.Terminal() {
			return op, nil
		}
		c.log.Debug("shopify: bulk operation running", "id", id, "status", op.Status, "objects", op.ObjectCount, "next_poll", interval)
		woke, err := c.sleepOrWake(ctx, interval, wake)
		if err != nil {
			return op, fmt.Errorf("shopifyapi: shop %s: waiting for %s: %w", c.shop, id, err)
		}
		if woke {
			interval = pollEvery
		} else {
			interval = min(ceiling, interval+interval/2)
		}
	}
}

// sleepOrWake sleeps d on the client's clock; a receive on wake ends it early (woke true).
func (c *Client) sleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) (bool, error) {
	if wake == nil {
		return false, c.clock.Sleep(ctx, d)
	}
	select { // a wake-up that came while polling counts
	case <-wake:
		return true, nil
	default:
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	woke := make(chan bool, 1)
	go func() {
		select {
		case <-wake:
			cancel()
			woke <- true
		case <-sctx.Done():
			woke <- false
		}
	}()
	err := c.clock.Sleep(sctx, d)
	cancel()
	if <-woke {
		return true, nil
	}
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	return false, err
}
