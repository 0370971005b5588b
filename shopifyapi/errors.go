package shopifyapi

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

var (
	// ErrUnauthorized matches an *HTTPError with status 401: the access token is wrong or was
	// revoked (the app was uninstalled). Retrying cannot help.
	ErrUnauthorized = errors.New("shopifyapi: unauthorized")
	// ErrForbidden matches an *HTTPError with status 403: the token lacks an access scope the
	// query needs, or the shop is closed to the app. Retrying cannot help.
	ErrForbidden = errors.New("shopifyapi: forbidden")
	// ErrThrottled is returned when a request was still throttled after Config.MaxThrottleWaits
	// waits for the bucket to refill: the bucket model and the server disagree for too long.
	ErrThrottled = errors.New("shopifyapi: still throttled after waiting for the cost bucket")
	// ErrBulkOperationInProgress is returned (wrapped with the *MutationError) when Shopify
	// refuses a new bulk operation because the app's concurrency limit for the shop is reached
	// (OPERATION_IN_PROGRESS, or LIMIT_REACHED from 2026-01). The caller waits for the running
	// operation (CurrentBulkOperation, WaitBulk) and starts again.
	ErrBulkOperationInProgress = errors.New("shopifyapi: a bulk operation is already in progress")
	// ErrBulkOperationNotFound is returned when Shopify knows no such bulk operation (or, for
	// CurrentBulkOperation, when the app never ran one on the shop).
	ErrBulkOperationNotFound = errors.New("shopifyapi: bulk operation not found")
	// ErrIncompleteResult says a bulk operation's result must not be taken as the whole answer
	// to its query: it failed, was canceled or expired, left only partial data, or the download
	// ended short of what the operation reported. A sync must not advance its watermark.
	ErrIncompleteResult = errors.New("shopifyapi: bulk result is incomplete")
)

// HTTPError is a response whose HTTP status is not a success: final for 4xx other than 429,
// the last attempt's status once retries of 5xx are exhausted. It matches ErrUnauthorized
// (401) and ErrForbidden (403) with errors.Is.
type HTTPError struct {
	Shop       string
	URL        string // without its query string, which may hold a signature
	StatusCode int
	Body       string        // the start of the body, for the log
	RetryAfter time.Duration // the Retry-After header, when the server sent one
}

func (e *HTTPError) Error() string {
	var hint string
	switch e.StatusCode {
	case 401:
		hint = " (the access token is invalid or revoked)"
	case 403:
		hint = " (the access token lacks a scope, or the shop is closed to the app)"
	}
	msg := fmt.Sprintf("shopifyapi: shop %s: %s: HTTP %d%s", e.Shop, e.URL, e.StatusCode, hint)
	if e.Body != "" {
		msg += ": " + e.Body
	}
	return msg
}

// Is makes errors.Is(err, ErrUnauthorized) and errors.Is(err, ErrForbidden) work.
func (e *HTTPError) Is(target error) bool {
	return (target == ErrUnauthorized && e.StatusCode == 401) ||
		(target == ErrForbidden && e.StatusCode == 403)
}

// GraphQLError is one entry of a response's top-level "errors".
type GraphQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Code is extensions.code, e.g. THROTTLED, MAX_COST_EXCEEDED, ACCESS_DENIED; "" if absent.
func (e GraphQLError) Code() string {
	c, _ := e.Extensions["code"].(string)
	return c
}

// QueryError is a response that carried top-level GraphQL errors (a malformed query, a
// missing scope, a cost above the per-query limit, ...). Do returns it after decoding whatever
// data came with it.
type QueryError struct {
	Shop   string
	Errors []GraphQLError
}

func (e *QueryError) Error() string {
	parts := make([]string, 0, len(e.Errors))
	for _, ge := range e.Errors {
		p := ge.Message
		if c := ge.Code(); c != "" {
			p += " [" + c + "]"
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("shopifyapi: shop %s: graphql errors: %s", e.Shop, strings.Join(parts, "; "))
}

// HasCode tells whether any of the errors carries extensions.code == code.
func (e *QueryError) HasCode(code string) bool {
	for _, ge := range e.Errors {
		if ge.Code() == code {
			return true
		}
	}
	return false
}

// UserError is one entry of a mutation payload's userErrors. It covers the plain UserError
// (field, message: tagsAdd, tagsRemove, bulkOperationCancel) and its richer variants
// (BulkOperationUserError and MetafieldsSetUserError add code; the latter elementIndex), so
// one selection "userErrors { field message code }" decodes into it where the type has code.
type UserError struct {
	Field        []string `json:"field"`
	Message      string   `json:"message"`
	Code         string   `json:"code,omitempty"`
	ElementIndex *int     `json:"elementIndex,omitempty"`
}

// MutationError is a mutation whose payload returned userErrors: Shopify refused the input,
// and nothing was done (metafieldsSet is atomic; the others act on one object).
type MutationError struct {
	Mutation   string
	UserErrors []UserError
}

func (e *MutationError) Error() string {
	parts := make([]string, 0, len(e.UserErrors))
	for _, ue := range e.UserErrors {
		p := ue.Message
		if len(ue.Field) > 0 {
			p = strings.Join(ue.Field, ".") + ": " + p
		}
		if ue.Code != "" {
			p += " [" + ue.Code + "]"
		}
		parts = append(parts, p)
	}
	return fmt.Sprintf("shopifyapi: %s: %s", e.Mutation, strings.Join(parts, "; "))
}

// HasCode tells whether any user error carries code.
func (e *MutationError) HasCode(code string) bool {
	for _, ue := range e.UserErrors {
		if ue.Code == code {
			return true
		}
	}
	return false
}

// CheckUserErrors turns a mutation payload's userErrors into an error: nil when there are
// none, a *MutationError naming the mutation otherwise.
//
//	var out struct{ TagsAdd struct{ UserErrors []shopifyapi.UserError } }
//	if err := c.Do(ctx, m, vars, &out); err != nil { return err }
//	return shopifyapi.CheckUserErrors("tagsAdd", out.TagsAdd.UserErrors)
func CheckUserErrors(mutation string, errs []UserError) error {
	if len(errs) == 0 {
		return nil
	}
	return &MutationError{Mutation: mutation, UserErrors: errs}
}
