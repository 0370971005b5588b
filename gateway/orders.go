package gateway

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"github.com/storeline/storeline/projections/orders"
)

// OrderReader reads the orders read model.
type OrderReader interface {
	Order(ctx context.Context, id int64) (*orders.Order, error)
}

// getOrder serves GET /api/v1/orders/{id}; id is the Shopify numeric id or the order's GID.
func getOrder(reader OrderReader) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		raw := chi.URLParam(r, "id")
		raw = strings.TrimPrefix(raw, "gid://shopify/Order/")
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			writeProblem(w, r, http.StatusBadRequest, ProblemInvalidID, "an order id is a positive integer or gid://shopify/Order/<id>")
			return
		}
		o, err := reader.Order(r.Context(), id)
		if errors.Is(err, orders.ErrNotFound) {
			writeProblem(w, r, http.StatusNotFound, ProblemNotFound, "no order "+raw)
			return
		}
		if err != nil {
			writeProblem(w, r, http.StatusInternalServerError, ProblemInternal, "")
			return
		}
		writeJSON(w, http.StatusOK, o)
	}
}
